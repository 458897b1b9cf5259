#include "localization.hpp"

#include <array>
#include <cctype>

namespace tchat::notification {

namespace {

constexpr std::size_t kLocales = 6;
constexpr std::size_t kTexts = static_cast<std::size_t>(Text::kCount_);
using Table = std::array<std::array<std::string_view, kLocales>, kTexts>;

// Columns: en, th, id, ms, fil, vi (the order of Locale).
constexpr Table kTable = {{
    // kNewMessageTitle
    {"New message", "ข้อความใหม่", "Pesan baru", "Mesej baharu", "Bagong mensahe", "Tin nhắn mới"},
    // kNewMessagesTitle
    {"{n} new messages", "ข้อความใหม่ {n} ข้อความ", "{n} pesan baru", "{n} mesej baharu",
     "{n} bagong mensahe", "{n} tin nhắn mới"},
    // kHiddenBody
    {"Open Tchat to read", "เปิด Tchat เพื่ออ่าน", "Buka Tchat untuk membaca",
     "Buka Tchat untuk membaca", "Buksan ang Tchat para mabasa", "Mở Tchat để đọc"},
    // kPhoto
    {"📷 Photo", "📷 รูปภาพ", "📷 Foto", "📷 Foto", "📷 Larawan", "📷 Ảnh"},
    // kFile
    {"📎 File", "📎 ไฟล์", "📎 File", "📎 Fail", "📎 File", "📎 Tệp"},
    // kPayment
    {"💸 Payment", "💸 การชำระเงิน", "💸 Pembayaran", "💸 Pembayaran", "💸 Bayad", "💸 Thanh toán"},
    // kPaymentReceivedTitle
    {"Payment received", "ได้รับเงินแล้ว", "Pembayaran diterima", "Bayaran diterima",
     "Natanggap ang bayad", "Đã nhận tiền"},
    // kPaymentReceivedBody
    {"You received {amount}", "คุณได้รับเงิน {amount}", "Anda menerima {amount}",
     "Anda menerima {amount}", "Nakatanggap ka ng {amount}", "Bạn đã nhận {amount}"},
    // kPaymentReceivedBodyNamed
    {"{name} sent you {amount}", "{name} โอนเงินให้คุณ {amount}", "{name} mengirimi Anda {amount}",
     "{name} menghantar {amount} kepada anda", "Pinadalhan ka ni {name} ng {amount}",
     "{name} đã gửi cho bạn {amount}"},
    // kPaymentSentTitle
    {"Payment sent", "โอนเงินสำเร็จ", "Pembayaran terkirim", "Bayaran dihantar",
     "Naipadala ang bayad", "Đã chuyển tiền"},
    // kPaymentSentBody
    {"You sent {amount}", "คุณโอนเงิน {amount}", "Anda mengirim {amount}", "Anda menghantar {amount}",
     "Nagpadala ka ng {amount}", "Bạn đã chuyển {amount}"},
    // kRequestCreatedTitle
    {"Payment request", "คำขอชำระเงิน", "Permintaan pembayaran", "Permintaan bayaran",
     "Hiling na bayad", "Yêu cầu thanh toán"},
    // kRequestCreatedBody
    {"You were asked to pay {amount}", "คุณได้รับคำขอให้ชำระ {amount}",
     "Anda diminta membayar {amount}", "Anda diminta membayar {amount}",
     "Hinihiling sa iyong magbayad ng {amount}", "Bạn được yêu cầu thanh toán {amount}"},
    // kRequestPaidTitle
    {"Request paid", "คำขอได้รับการชำระแล้ว", "Permintaan dibayar", "Permintaan dibayar",
     "Nabayaran ang hiling", "Yêu cầu đã được thanh toán"},
    // kRequestPaidBody
    {"Your request for {amount} was paid", "คำขอ {amount} ได้รับการชำระแล้ว",
     "Permintaan {amount} telah dibayar", "Permintaan {amount} telah dibayar",
     "Nabayaran na ang hiling na {amount}", "Yêu cầu {amount} đã được thanh toán"},
    // kRequestDeclinedTitle
    {"Request declined", "คำขอถูกปฏิเสธ", "Permintaan ditolak", "Permintaan ditolak",
     "Tinanggihan ang hiling", "Yêu cầu bị từ chối"},
    // kRequestDeclinedBody
    {"Your request for {amount} was declined", "คำขอ {amount} ถูกปฏิเสธ",
     "Permintaan {amount} ditolak", "Permintaan {amount} ditolak",
     "Tinanggihan ang hiling na {amount}", "Yêu cầu {amount} đã bị từ chối"},
    // kRequestCancelledTitle
    {"Request cancelled", "คำขอถูกยกเลิก", "Permintaan dibatalkan", "Permintaan dibatalkan",
     "Kinansela ang hiling", "Yêu cầu đã bị hủy"},
    // kRequestCancelledBody
    {"The request for {amount} was cancelled", "คำขอ {amount} ถูกยกเลิก",
     "Permintaan {amount} dibatalkan", "Permintaan {amount} dibatalkan",
     "Kinansela ang hiling na {amount}", "Yêu cầu {amount} đã bị hủy"},
    // kTopupSucceededTitle
    {"Top-up successful", "เติมเงินสำเร็จ", "Isi saldo berhasil", "Tambah nilai berjaya",
     "Matagumpay ang top-up", "Nạp tiền thành công"},
    // kTopupSucceededBody
    {"{amount} was added to your wallet", "เพิ่ม {amount} เข้ากระเป๋าเงินของคุณแล้ว",
     "{amount} telah ditambahkan ke dompet Anda", "{amount} telah ditambah ke dompet anda",
     "Naidagdag na ang {amount} sa iyong wallet", "Đã thêm {amount} vào ví của bạn"},
    // kTopupFailedTitle
    {"Top-up failed", "เติมเงินไม่สำเร็จ", "Isi saldo gagal", "Tambah nilai gagal",
     "Hindi natuloy ang top-up", "Nạp tiền thất bại"},
    // kTopupFailedBody
    {"Your top-up of {amount} did not go through", "การเติมเงิน {amount} ไม่สำเร็จ",
     "Isi saldo {amount} tidak berhasil", "Tambah nilai {amount} tidak berjaya",
     "Hindi natuloy ang top-up na {amount}", "Nạp {amount} không thành công"},
    // kPaymentUpdateTitle
    {"Payment update", "อัปเดตการชำระเงิน", "Pembaruan pembayaran", "Kemas kini bayaran",
     "Update sa bayad", "Cập nhật thanh toán"},
    // kPaymentUpdateBody
    {"{amount}", "{amount}", "{amount}", "{amount}", "{amount}", "{amount}"},
    // kOtpSms
    {"Your Tchat code is {code}. It expires in {minutes} minutes. Do not share it with anyone.",
     "รหัส Tchat ของคุณคือ {code} หมดอายุใน {minutes} นาที ห้ามบอกรหัสนี้กับผู้อื่น",
     "Kode Tchat Anda adalah {code}. Berlaku {minutes} menit. Jangan berikan kode ini kepada "
     "siapa pun.",
     "Kod Tchat anda ialah {code}. Sah selama {minutes} minit. Jangan kongsi kod ini dengan "
     "sesiapa.",
     "Ang iyong Tchat code ay {code}. Mag-e-expire ito sa loob ng {minutes} minuto. Huwag itong "
     "ibahagi kaninuman.",
     "Mã Tchat của bạn là {code}. Mã hết hạn sau {minutes} phút. Không chia sẻ mã này với bất kỳ "
     "ai."},
    // kOtpPasswordSms
    {"Your Tchat code to change your password is {code}. It expires in {minutes} minutes. If "
     "you did not ask for it, ignore this message and do not share the code.",
     "รหัส Tchat สำหรับเปลี่ยนรหัสผ่านของคุณคือ {code} หมดอายุใน {minutes} นาที หากคุณไม่ได้ขอ "
     "โปรดเพิกเฉยข้อความนี้และห้ามบอกรหัสนี้กับผู้อื่น",
     "Kode Tchat untuk mengubah kata sandi Anda adalah {code}. Berlaku {minutes} menit. Jika "
     "Anda tidak memintanya, abaikan pesan ini dan jangan berikan kode ini kepada siapa pun.",
     "Kod Tchat untuk menukar kata laluan anda ialah {code}. Sah selama {minutes} minit. Jika "
     "anda tidak memintanya, abaikan mesej ini dan jangan kongsi kod ini dengan sesiapa.",
     "Ang iyong Tchat code para palitan ang password ay {code}. Mag-e-expire ito sa loob ng "
     "{minutes} minuto. Kung hindi mo ito hiniling, huwag pansinin ang mensaheng ito at huwag "
     "ibahagi ang code.",
     "Mã Tchat để đổi mật khẩu của bạn là {code}. Mã hết hạn sau {minutes} phút. Nếu bạn không "
     "yêu cầu, hãy bỏ qua tin nhắn này và không chia sẻ mã với bất kỳ ai."},
    // kPasswordChangedTitle
    {"Your Tchat password changed", "รหัสผ่าน Tchat ของคุณถูกเปลี่ยน", "Kata sandi Tchat Anda diubah",
     "Kata laluan Tchat anda telah ditukar", "Napalitan ang iyong Tchat password",
     "Mật khẩu Tchat của bạn đã thay đổi"},
    // kPasswordChangedBody
    {"Your other devices were signed out. If this was not you, sign in with a code and reset "
     "your password.",
     "อุปกรณ์อื่นของคุณถูกออกจากระบบ หากไม่ใช่คุณ ให้เข้าสู่ระบบด้วยรหัสและรีเซ็ตรหัสผ่าน",
     "Perangkat Anda yang lain telah keluar. Jika ini bukan Anda, masuk dengan kode dan atur "
     "ulang kata sandi.",
     "Peranti anda yang lain telah dilog keluar. Jika ini bukan anda, log masuk dengan kod dan "
     "tetapkan semula kata laluan.",
     "Na-sign out ang iba mong device. Kung hindi ikaw ito, mag-sign in gamit ang code at i-reset "
     "ang password.",
     "Các thiết bị khác của bạn đã bị đăng xuất. Nếu không phải bạn, hãy đăng nhập bằng mã và "
     "đặt lại mật khẩu."},
    // kPasswordResetBody
    {"Your password was reset with a code sent to your phone; every device was signed out.",
     "รหัสผ่านของคุณถูกรีเซ็ตด้วยรหัสที่ส่งไปยังโทรศัพท์ของคุณ ทุกอุปกรณ์ถูกออกจากระบบ",
     "Kata sandi Anda diatur ulang dengan kode yang dikirim ke ponsel Anda; semua perangkat "
     "telah keluar.",
     "Kata laluan anda ditetapkan semula dengan kod yang dihantar ke telefon anda; semua peranti "
     "telah dilog keluar.",
     "Na-reset ang iyong password gamit ang code na ipinadala sa iyong telepono; na-sign out ang "
     "lahat ng device.",
     "Mật khẩu của bạn đã được đặt lại bằng mã gửi đến điện thoại; mọi thiết bị đã bị đăng "
     "xuất."},
    // kPasswordRemovedBody
    {"Your password was removed: you now sign in with a code sent to your phone. Your other "
     "devices were signed out.",
     "รหัสผ่านของคุณถูกลบแล้ว จากนี้ให้เข้าสู่ระบบด้วยรหัสที่ส่งไปยังโทรศัพท์ของคุณ "
     "อุปกรณ์อื่นของคุณถูกออกจากระบบ",
     "Kata sandi Anda dihapus: kini Anda masuk dengan kode yang dikirim ke ponsel Anda. "
     "Perangkat Anda yang lain telah keluar.",
     "Kata laluan anda telah dibuang: kini anda log masuk dengan kod yang dihantar ke telefon "
     "anda. Peranti anda yang lain telah dilog keluar.",
     "Inalis ang iyong password: mag-sign in ka na gamit ang code na ipinadala sa iyong "
     "telepono. Na-sign out ang iba mong device.",
     "Mật khẩu của bạn đã bị xóa: từ nay bạn đăng nhập bằng mã gửi đến điện thoại. Các thiết "
     "bị khác của bạn đã bị đăng xuất."},
}};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::optional<Locale> ParseLocale(std::string_view tag) {
  std::string t = Lower(tag);
  if (auto cut = t.find_first_of("-_"); cut != std::string::npos) t.resize(cut);
  if (t == "en") return Locale::kEn;
  if (t == "th") return Locale::kTh;
  if (t == "id" || t == "in") return Locale::kId;
  if (t == "ms") return Locale::kMs;
  if (t == "fil" || t == "tl") return Locale::kFil;
  if (t == "vi") return Locale::kVi;
  return std::nullopt;
}

std::string_view LocaleCode(Locale locale) {
  switch (locale) {
    case Locale::kEn:
      return "en";
    case Locale::kTh:
      return "th";
    case Locale::kId:
      return "id";
    case Locale::kMs:
      return "ms";
    case Locale::kFil:
      return "fil";
    case Locale::kVi:
      return "vi";
  }
  return "en";
}

Locale LocaleForPhone(std::string_view e164) {
  auto starts = [&](std::string_view p) { return e164.substr(0, p.size()) == p; };
  if (starts("+66")) return Locale::kTh;
  if (starts("+62")) return Locale::kId;
  if (starts("+60")) return Locale::kMs;
  if (starts("+63")) return Locale::kFil;
  if (starts("+84")) return Locale::kVi;
  return Locale::kEn;
}

std::string Localize(Locale locale, Text text, TextArgs args) {
  const auto ti = static_cast<std::size_t>(text);
  if (ti >= kTexts) return {};
  const std::string_view tmpl = kTable[ti][static_cast<std::size_t>(locale)];
  std::string out;
  out.reserve(tmpl.size() + 32);
  std::size_t i = 0;
  while (i < tmpl.size()) {
    if (tmpl[i] == '{') {
      const auto close = tmpl.find('}', i);
      if (close != std::string_view::npos) {
        const std::string_view name = tmpl.substr(i + 1, close - i - 1);
        bool replaced = false;
        for (const auto& [k, v] : args) {
          if (k == name) {
            out.append(v);
            replaced = true;
            break;
          }
        }
        if (replaced) {
          i = close + 1;
          continue;
        }
      }
    }
    out.push_back(tmpl[i++]);
  }
  return out;
}

std::string FormatAmount(std::int64_t minor_units, std::string_view currency) {
  const int decimals = currency == "VND" ? 0 : 2;
  const bool negative = minor_units < 0;
  // Work in unsigned so that INT64_MIN does not overflow.
  std::uint64_t v = negative ? 0 - static_cast<std::uint64_t>(minor_units)
                             : static_cast<std::uint64_t>(minor_units);
  std::uint64_t scale = decimals == 0 ? 1 : 100;
  const std::uint64_t major = v / scale;
  const std::uint64_t minor = v % scale;
  std::string digits = std::to_string(major);
  std::string grouped;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) grouped.push_back(',');
    grouped.push_back(digits[i]);
  }
  std::string out = negative ? "-" : "";
  out += grouped;
  if (decimals == 2) {
    out.push_back('.');
    out.push_back(static_cast<char>('0' + minor / 10));
    out.push_back(static_cast<char>('0' + minor % 10));
  }
  out.push_back(' ');
  out.append(currency);
  return out;
}

std::string TruncateUtf8(std::string_view s, std::size_t max_chars) {
  std::string out;
  out.reserve(std::min(s.size(), max_chars * 4));
  std::size_t chars = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80           ? 1
                      : (c >> 5) == 0x6  ? 2
                      : (c >> 4) == 0xE  ? 3
                      : (c >> 3) == 0x1E ? 4
                                         : 0;
    bool valid = len > 0 && i + len <= s.size();
    for (std::size_t k = 1; valid && k < len; ++k) {
      valid = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    }
    if (!valid) {
      ++i;
      continue;
    }
    if (chars == max_chars) {
      out += "…";
      return out;
    }
    out.append(s.substr(i, len));
    ++chars;
    i += len;
  }
  return out;
}

}  // namespace tchat::notification
