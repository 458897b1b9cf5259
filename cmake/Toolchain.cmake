# Compiler cache, fast linker, warnings as errors and the sanitizer switch.
find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
endif()

find_program(MOLD_PROGRAM mold)
if(MOLD_PROGRAM)
  add_link_options(-fuse-ld=mold)
endif()

# Warnings are errors for the project's own code; third-party headers are
# included as SYSTEM so their warnings do not count.
set(TCHAT_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
    -Wold-style-cast -Wcast-align -Wunused -Woverloaded-virtual
    -Wdouble-promotion -Wformat=2 -Werror
    # GCC 12 reports false mismatched new/delete on Asio coroutine frames
    # (GCC bug 109224) at -O2.
    -Wno-mismatched-new-delete)

option(TCHAT_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
if(TCHAT_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# Every project target calls this to get warnings and the shared flags.
function(tchat_target_defaults target)
  target_compile_options(${target} PRIVATE ${TCHAT_WARNINGS})
endfunction()
