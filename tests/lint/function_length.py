#!/usr/bin/env python3
"""Fails when a function of the product code is longer than 80 lines, or a file
longer than 600 lines: the house rule is that a function whose comments number
its steps becomes those steps, and a file holds one concept.

Product code: the C++ sources and headers under core/, services/, clients/,
tools/ and bench/ (the load generators), without tests (*_test.cpp, *_pgtest.cpp, *_redistest.cpp and testing/
directories). A function's length is the number of lines from its opening brace
to its closing brace, both included; lambdas and local classes inside a function
are part of it.

    function_length.py [--root DIR] [--max-function N] [--max-file N] [--list] [FILE...]

With FILE arguments only those files are measured (any path, tests included).
--list prints every function's length, longest first, and never fails.

This is a brace matcher, not a C++ parser: comments, string and character
literals (raw strings too) and preprocessor lines are blanked first; then at
namespace and class scope a "{" opens a function body when the declaration
before it has a parameter list, and it is not a class, enum or initializer.
"""
import argparse
import os
import re
import signal
import sys

MAX_FUNCTION_LINES = 80
MAX_FILE_LINES = 600
SOURCE_DIRS = ("core", "services", "clients", "tools", "bench")
SOURCE_SUFFIXES = (".cpp", ".cc", ".hpp", ".h")
TEST_SUFFIXES = ("_test.cpp", "_pgtest.cpp", "_redistest.cpp")

RAW_STRING = re.compile(r'(?:u8|[uUL])?R"([^()\\\s]{0,16})\(')


def blank(src):
    """`src` with comments, literals and preprocessor lines replaced by spaces
    (string literals keep their quotes), so that only code braces remain and
    every newline stays where it was."""
    out = []
    i, n = 0, len(src)
    line_start = True  # only whitespace since the last newline
    while i < n:
        c = src[i]
        if c == "\n":
            out.append(c)
            line_start = True
            i += 1
            continue
        if line_start and c == "#":  # a directive, with its continuation lines
            j = i
            while j < n:
                k = src.find("\n", j)
                if k < 0:
                    k = n
                if k > 0 and src[k - 1] == "\\":
                    j = k + 1
                    continue
                break
            out.append(re.sub(r"[^\n]", " ", src[i:k]))
            i = k
            continue
        if not c.isspace():
            line_start = False
        if src.startswith("//", i):
            k = src.find("\n", i)
            k = n if k < 0 else k
            out.append(" " * (k - i))
            i = k
            continue
        if src.startswith("/*", i):
            k = src.find("*/", i + 2)
            k = n if k < 0 else k + 2
            out.append(re.sub(r"[^\n]", " ", src[i:k]))
            i = k
            continue
        m = RAW_STRING.match(src, i) if c in 'uULR' else None
        if m and (i == 0 or not (src[i - 1].isalnum() or src[i - 1] == "_")):
            end = ")" + m.group(1) + '"'
            k = src.find(end, m.end())
            k = n if k < 0 else k + len(end)
            out.append('"' + re.sub(r"[^\n]", " ", src[i + 1:k - 1]) + '"')
            i = k
            continue
        # A literal (the ' of 1'000 is a digit separator, not a quote).
        if c == '"' or (c == "'" and not (i > 0 and src[i - 1].isalnum())):
            k = i + 1
            while k < n and src[k] != c and src[k] != "\n":
                k += 2 if src[k] == "\\" else 1
            k = min(k + 1, n)
            out.append(c + re.sub(r"[^\n]", " ", src[i + 1:k - 1]) + c)
            i = k
            continue
        out.append(c)
        i += 1
    return "".join(out)


def collapse_parens(text):
    """`text` with the contents of every balanced (...) removed: "f(a, g(b))" -> "f()"."""
    out, depth = [], 0
    for c in text:
        if c == "(":
            if depth == 0:
                out.append(c)
            depth += 1
        elif c == ")":
            depth = max(0, depth - 1)
            if depth == 0:
                out.append(c)
        elif depth == 0:
            out.append(c)
    return "".join(out)


def strip_template_head(head):
    """Drops a leading `template <...>` (nested angle brackets included), attributes
    and access labels."""
    head = head.strip()
    while True:
        head = re.sub(r"^(?:\[\[.*?\]\]|(?:public|protected|private)\s*:(?!:))\s*", "", head)
        m = re.match(r"template\s*<", head)
        if not m:
            return head
        depth, i = 1, m.end()
        while i < len(head) and depth:
            depth += {"<": 1, ">": -1}.get(head[i], 0)
            i += 1
        head = head[i:].strip()


CLASS_HEAD = re.compile(r"^(?:typedef\s+)?(?:class|struct|union|enum)\b")
CLASS_NAME = re.compile(r"^(?:typedef\s+)?(?:class|struct|union)\s+"
                        r"(?:\[\[.*?\]\]\s*|alignas\s*\(\)\s*)*([A-Za-z_][\w:]*)")
NAMESPACE_HEAD = re.compile(r"^(?:inline\s+)?namespace\b|^extern\s*\"")
INIT_LIST = re.compile(r"\)\s*(?:noexcept\s*(?:\(\))?\s*)?:(?!:)")
# An "=" that assigns (not ==, <=, >=, !=, nor part of an operator's name).
ASSIGNMENT = re.compile(r"(?<![=<>!])(?<!operator)=(?!=)")
# The (qualified) name before a parameter list: ns::Type<T>::Name, ~Type, operator==.
NAME_BEFORE_PARAMS = re.compile(
    r"((?:[A-Za-z_~]\w*(?:<[^()]*?>)?::)*~?(?:operator\s*(?:\(\)|[^\s(]+)|[A-Za-z_]\w*))\s*\($")
NOT_NAMES = {"decltype", "requires", "noexcept", "alignas", "sizeof", "__attribute__"}
LAMBDA_VARIABLE = re.compile(r"([A-Za-z_]\w*)\s*(?:\{\})?\s*=\s*\[")


def classify(head):
    """What a "{" opens at namespace or class scope, from the declaration text
    before it (literals blanked, nested initializer braces shown as "{}"):
    ("ns"|"class"|"init"|"func", function name)."""
    h = strip_template_head(head)
    if NAMESPACE_HEAD.match(h):
        return "ns", ""
    if h.count("(") > h.count(")"):
        return "init", ""  # a braced argument: f(a, {b}) or a default value "= {}"
    flat = collapse_parens(h)
    if CLASS_HEAD.match(h) and "(" not in re.sub(r"\b(?:alignas|__attribute__)\s*\(\)", "", flat):
        m = CLASS_NAME.match(flat)
        if not m:
            return "init", ""  # an enum, or an anonymous struct: no functions inside
        return "class", m.group(1)
    if flat.count("(") == 0:
        return "init", ""  # int a[] = {...}, Foo x{...}, a member's default value
    lam = LAMBDA_VARIABLE.search(flat)
    if lam:  # a lambda stored in a variable at namespace or class scope
        return "func", lam.group(1)
    if ASSIGNMENT.search(flat):
        return "init", ""  # const Foo kFoo = Make(...) {...}? an initializer
    stripped = head.rstrip()
    if INIT_LIST.search(flat) and not stripped.endswith((")", "}")):
        return "init", ""  # a member's brace initializer inside a constructor's init list
    # The name: before the first parameter list that follows a name (not one of
    # decltype(...), a requires-clause's (...), or the "()" of operator()).
    for m in re.finditer(r"\(", flat):
        if flat[m.start():m.start() + 4] == "()()" and flat[:m.start()].rstrip().endswith(
                "operator"):
            continue
        name = NAME_BEFORE_PARAMS.search(flat[:m.start() + 1])
        if name and name.group(1) not in NOT_NAMES:
            return "func", re.sub(r"\s+", "", name.group(1))
    return "func", "?"


def functions(path):
    """(length, first line, name) of every function body in `path`."""
    with open(path, encoding="utf-8", errors="replace") as f:
        text = blank(f.read())
    found = []
    # Scopes: (kind, line of "{", name). kind: ns, class, init, func, block.
    stack = []
    head = []  # the declaration being read at namespace or class scope
    line = 1
    func_depth = 0  # scopes on the stack opened inside a function body
    for c in text:
        if c == "\n":
            line += 1
            if not func_depth:
                head.append(" ")
            continue
        if func_depth:  # inside a function: only match braces
            if c == "{":
                stack.append(("block", line, ""))
                func_depth += 1
            elif c == "}":
                kind, start, name = stack.pop()
                func_depth -= 1
                if kind == "func":
                    found.append((line - start + 1, start, name))
            continue
        if c == "{":
            if stack and stack[-1][0] == "init":  # nested braces of an initializer
                stack.append(("init", line, ""))
                continue
            kind, name = classify("".join(head))
            if kind == "func":
                prefix = "::".join(n for k, _, n in stack if k == "class")
                if prefix and "::" not in name:
                    name = prefix + "::" + name
                stack.append(("func", line, name))
                func_depth = 1
                head = []
            elif kind == "init":
                stack.append(("init", line, ""))
            else:
                stack.append((kind, line, name))
                head = []
            continue
        if c == "}":
            if not stack:
                continue  # unbalanced (a macro's brace): ignore
            kind, start, name = stack.pop()
            if kind == "init":
                if not stack or stack[-1][0] != "init":
                    head.append("{}")  # the declaration goes on after its initializer
            else:
                head = []
            continue
        if stack and stack[-1][0] == "init":
            continue
        if c == ";":
            head = []
            continue
        head.append(c)
    return found


# A sample with what the tree uses, and the lengths it must give: a check that
# the matcher still works before its silence is taken for a pass.
SELF_CHECK = r'''
#define BRACES(a) { if (a) { } }
namespace a::b {
namespace {
constexpr std::string_view kSql = R"(SELECT '{' FROM t WHERE x = "}")";
const auto kFn = [](int x) {
  return x + 1'000;
};
int g_arr[] = {1, 2, {3}};
enum class E : unsigned { kA, kB };
}  // namespace
template <typename T>
struct [[nodiscard]] Foo : Bar<Foo<T>> {
 public:
  Foo(int a) : a_{a}, b_(std::move(a)), c_{} {
    if (a) { x('{'); }
  }
  auto operator()(int x) const -> int { return x; }
  bool operator==(const Foo&) const = default;
 private:
  struct Inner {
    void F() {
    }
  };
  int a_{0};
};
T Twice(T v, std::string s = {}) {
  auto l = [&] {
    return v;  // }
  };
  /* } */
  return l() + l();
}
Foo::Foo(int a) noexcept : a_(a) {
}
}  // namespace a::b
'''
SELF_CHECK_EXPECTED = [(3, 6, "kFn"), (3, 15, "Foo::Foo"), (1, 18, "Foo::operator()"),
                       (2, 22, "Foo::Inner::F"), (7, 27, "Twice"), (2, 34, "Foo::Foo")]


def self_check():
    import tempfile
    with tempfile.NamedTemporaryFile("w", suffix=".cpp") as f:
        f.write(SELF_CHECK)
        f.flush()
        got = sorted(functions(f.name), key=lambda r: r[1])
    if got != SELF_CHECK_EXPECTED:
        print(f"FAIL: the matcher measures its own sample wrongly: {got}")
        return False
    return True


def product_files(root):
    for top in SOURCE_DIRS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, top)):
            dirnames[:] = sorted(d for d in dirnames if d != "testing" and not d.startswith("."))
            for f in sorted(filenames):
                if f.endswith(SOURCE_SUFFIXES) and not f.endswith(TEST_SUFFIXES):
                    yield os.path.join(dirpath, f)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    p.add_argument("--root", default=os.path.join(here, "..", ".."))
    p.add_argument("--max-function", type=int, default=MAX_FUNCTION_LINES)
    p.add_argument("--max-file", type=int, default=MAX_FILE_LINES)
    p.add_argument("--list", action="store_true", help="print every function's length; never fail")
    p.add_argument("files", nargs="*")
    args = p.parse_args(argv)
    if not self_check():
        return 1
    root = os.path.normpath(args.root)
    files = args.files or list(product_files(root))
    if not files:
        print(f"FAIL: no C++ files found under {root}")
        return 1

    def rel(path):
        return os.path.relpath(path, root) if not args.files else path

    rows = []
    long_files = []
    for path in files:
        with open(path, encoding="utf-8", errors="replace") as f:
            n_lines = sum(1 for _ in f)
        if n_lines > args.max_file:
            long_files.append((n_lines, rel(path)))
        for length, start, name in functions(path):
            rows.append((length, rel(path), start, name))
    rows.sort(key=lambda r: (-r[0], r[1], r[2]))
    if args.list:
        for length, path, start, name in rows:
            print(f"{length:5d} {path}:{start} {name}")
        return 0
    long_functions = [r for r in rows if r[0] > args.max_function]
    for length, path, start, name in long_functions:
        print(f"{path}:{start}: {name} is {length} lines (at most {args.max_function})")
    for n_lines, path in sorted(long_files, reverse=True):
        print(f"{path}: {n_lines} lines (at most {args.max_file})")
    if long_functions or long_files:
        print(f"FAIL: {len(long_functions)} functions over {args.max_function} lines, "
              f"{len(long_files)} files over {args.max_file} lines; split them into named steps")
        return 1
    print(f"PASS: {len(rows)} functions in {len(files)} files, none over {args.max_function} "
          f"lines; no file over {args.max_file} lines")
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # --list | head
    sys.exit(main(sys.argv[1:]))
