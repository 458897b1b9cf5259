// Videos and voice notes with FFmpeg's libraries: containers and codecs from an
// allow-list, only the file protocol, a poster from the first video frame (handed to
// the image path) and a waveform from the decoded audio. Nothing is transcoded.

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libavutil/samplefmt.h>
#include <libswscale/swscale.h>
}

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "media_internal.hpp"
#include "media_process.hpp"

namespace tchat::messaging::media {
namespace {

using internal::InputError;

// Demuxer names as libavformat spells them.
constexpr const char* kVideoFormats = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm";
constexpr const char* kVoiceFormats = "ogg,matroska,webm,mov,mp4,m4a,3gp,3g2,mj2";
constexpr AVCodecID kVideoCodecs[] = {AV_CODEC_ID_H264, AV_CODEC_ID_HEVC, AV_CODEC_ID_VP8,
                                      AV_CODEC_ID_VP9,  AV_CODEC_ID_AV1,  AV_CODEC_ID_MPEG4};
constexpr AVCodecID kVoiceCodecs[] = {AV_CODEC_ID_OPUS, AV_CODEC_ID_AAC};
// A stream that yields no frame within this many of its packets is refused.
constexpr int kMaxPacketsForPoster = 1000;

struct FormatCloser {
  void operator()(AVFormatContext* c) const { avformat_close_input(&c); }
};
struct CodecCloser {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct PacketFree {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct FrameFree {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct SwsFree {
  void operator()(SwsContext* s) const { sws_freeContext(s); }
};
using FormatPtr = std::unique_ptr<AVFormatContext, FormatCloser>;
using CodecPtr = std::unique_ptr<AVCodecContext, CodecCloser>;
using PacketPtr = std::unique_ptr<AVPacket, PacketFree>;
using FramePtr = std::unique_ptr<AVFrame, FrameFree>;

std::string AvError(int rc) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(rc, text, sizeof text);
  return text;
}

Result<FormatPtr> OpenInput(const std::string& path, const char* formats) {
  if (auto size = internal::RegularFileSize(path); !size) return std::move(size).error();
  AVFormatContext* ctx = avformat_alloc_context();
  if (ctx == nullptr) return Error::Internal("media: out of memory");
  AVDictionary* opts = nullptr;
  av_dict_set(&opts, "format_whitelist", formats, 0);
  av_dict_set(&opts, "protocol_whitelist", "file", 0);
  const int rc = avformat_open_input(&ctx, path.c_str(), nullptr, &opts);  // frees ctx on error
  av_dict_free(&opts);
  if (rc < 0) return InputError(kUnsupportedMedia, "not an allowed container: " + AvError(rc));
  FormatPtr fmt(ctx);
  if (const int info = avformat_find_stream_info(ctx, nullptr); info < 0) {
    return InputError(kCorruptMedia, "unreadable streams: " + AvError(info));
  }
  return fmt;
}

// The best stream of `type` whose codec is allowed, with an opened decoder.
Result<std::pair<int, CodecPtr>> OpenDecoder(AVFormatContext* fmt, AVMediaType type,
                                             const AVCodecID* allowed, std::size_t n_allowed) {
  const AVCodec* codec = nullptr;
  const int index = av_find_best_stream(fmt, type, -1, -1, &codec, 0);
  if (index < 0 || codec == nullptr) {
    return InputError(kUnsupportedMedia, type == AVMEDIA_TYPE_VIDEO ? "no decodable video stream"
                                                                    : "no decodable audio stream");
  }
  const AVCodecParameters* par = fmt->streams[index]->codecpar;
  if (std::find(allowed, allowed + n_allowed, par->codec_id) == allowed + n_allowed) {
    return InputError(kUnsupportedMedia,
                      std::string("codec not allowed: ") + avcodec_get_name(par->codec_id));
  }
  CodecPtr ctx(avcodec_alloc_context3(codec));
  if (!ctx) return Error::Internal("media: out of memory");
  if (avcodec_parameters_to_context(ctx.get(), par) < 0) {
    return InputError(kCorruptMedia, "bad codec parameters");
  }
  ctx->thread_count = 1;  // callers run many of these on a worker pool
  if (const int rc = avcodec_open2(ctx.get(), codec, nullptr); rc < 0) {
    return InputError(kCorruptMedia, "decoder refused the stream: " + AvError(rc));
  }
  return std::pair{index, std::move(ctx)};
}

// Seconds from the container, or a negative number when it does not say.
double ContainerDuration(const AVFormatContext* fmt, const AVStream* st) {
  if (fmt->duration != AV_NOPTS_VALUE && fmt->duration > 0) {
    return static_cast<double>(fmt->duration) / AV_TIME_BASE;
  }
  if (st->duration != AV_NOPTS_VALUE && st->duration > 0) {
    return static_cast<double>(st->duration) * av_q2d(st->time_base);
  }
  return -1;
}

// Sends packets of stream `index` to the decoder and hands every decoded frame to
// on_frame, which returns false to stop. Returns the number of packets read.
template <typename OnFrame>
Result<int> DecodeStream(AVFormatContext* fmt, AVCodecContext* dec, int index, int max_packets,
                         OnFrame&& on_frame) {
  PacketPtr pkt(av_packet_alloc());
  FramePtr frame(av_frame_alloc());
  if (!pkt || !frame) return Error::Internal("media: out of memory");
  int packets = 0;
  bool eof = false;
  while (true) {
    if (!eof) {
      const int rc = av_read_frame(fmt, pkt.get());
      if (rc < 0) {
        eof = true;
        avcodec_send_packet(dec, nullptr);  // drain
      } else if (pkt->stream_index != index) {
        av_packet_unref(pkt.get());
        continue;
      } else {
        ++packets;
        const int sent = avcodec_send_packet(dec, pkt.get());
        av_packet_unref(pkt.get());
        // A damaged packet is skipped: the rest of a truncated recording still counts.
        if (sent < 0 && sent != AVERROR(EAGAIN) && sent != AVERROR_INVALIDDATA) {
          return InputError(kCorruptMedia, "decoding failed: " + AvError(sent));
        }
      }
    }
    int rc = 0;
    while ((rc = avcodec_receive_frame(dec, frame.get())) == 0) {
      const bool more = on_frame(frame.get());
      av_frame_unref(frame.get());
      if (!more) return packets;
    }
    if (rc == AVERROR_EOF) return packets;
    if (rc != AVERROR(EAGAIN) && rc != AVERROR_INVALIDDATA) {
      return InputError(kCorruptMedia, "decoding failed: " + AvError(rc));
    }
    if (eof && rc == AVERROR(EAGAIN)) return packets;
    if (max_packets > 0 && packets >= max_packets) return packets;
  }
}

// Clockwise degrees (0, 90, 180, 270) a player turns the stream's frames.
int StreamRotation(const AVStream* st) {
  const std::uint8_t* matrix = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, nullptr);
  if (matrix == nullptr) return 0;
  const double ccw = av_display_rotation_get(reinterpret_cast<const std::int32_t*>(matrix));
  if (std::isnan(ccw)) return 0;
  int cw = static_cast<int>(std::lround(-ccw / 90.0)) * 90 % 360;
  return cw < 0 ? cw + 360 : cw;
}

// The frame as packed RGB, rows of width * 3 bytes.
Result<std::vector<std::uint8_t>> ToRgb(const AVFrame* frame) {
  std::unique_ptr<SwsContext, SwsFree> sws(sws_getContext(
      frame->width, frame->height, static_cast<AVPixelFormat>(frame->format), frame->width,
      frame->height, AV_PIX_FMT_RGB24, SWS_BILINEAR, nullptr, nullptr, nullptr));
  if (!sws) return InputError(kCorruptMedia, "unsupported pixel format");
  const std::size_t row = static_cast<std::size_t>(frame->width) * 3;
  // Slack at the end: swscale's vector code may write a little past the last row.
  std::vector<std::uint8_t> rgb(row * static_cast<std::size_t>(frame->height) + 64);
  std::uint8_t* dst[4] = {rgb.data(), nullptr, nullptr, nullptr};
  const int dst_stride[4] = {static_cast<int>(row), 0, 0, 0};
  if (sws_scale(sws.get(), frame->data, frame->linesize, 0, frame->height, dst, dst_stride) !=
      frame->height) {
    return InputError(kCorruptMedia, "frame conversion failed");
  }
  return rgb;
}

// The poster from the first decodable frame (within kMaxPacketsForPoster packets).
Result<ImageInfo> Poster(AVFormatContext* fmt, AVCodecContext* dec, int index, int rotation,
                         const std::string& out_dir, const Limits& limits) {
  std::optional<Result<ImageInfo>> poster;
  auto decoded = DecodeStream(fmt, dec, index, kMaxPacketsForPoster, [&](const AVFrame* frame) {
    const auto pixels =
        static_cast<std::uint64_t>(frame->width) * static_cast<std::uint64_t>(frame->height);
    if (pixels > limits.max_pixels) {
      poster.emplace(InputError(kImageTooLarge, "video frame is too large"));
      return false;
    }
    auto rgb = ToRgb(frame);
    if (!rgb) {
      poster.emplace(std::move(rgb).error());
      return false;
    }
    internal::RgbFrame f{rgb->data(), frame->width, frame->height, rotation};
    poster.emplace(internal::ProcessRgbFrame(f, out_dir, limits));
    return false;
  });
  if (!decoded) return std::move(decoded).error();
  if (!poster) return InputError(kCorruptMedia, "no video frame could be decoded");
  return std::move(*poster);
}

// The end of the last packet of stream `index`, in seconds (reads the rest of the
// file without decoding: WebM from browsers often has no duration in its header).
double ScanDuration(AVFormatContext* fmt, int index) {
  PacketPtr pkt(av_packet_alloc());
  if (!pkt) return -1;
  const AVRational tb = fmt->streams[index]->time_base;
  std::int64_t end = AV_NOPTS_VALUE;
  while (av_read_frame(fmt, pkt.get()) >= 0) {
    if (pkt->stream_index == index && pkt->pts != AV_NOPTS_VALUE) {
      end = std::max(end == AV_NOPTS_VALUE ? pkt->pts : end, pkt->pts + pkt->duration);
    }
    av_packet_unref(pkt.get());
  }
  return end == AV_NOPTS_VALUE ? -1 : static_cast<double>(end) * av_q2d(tb);
}

// Loudness of a voice note: the RMS of every 10 ms window of the channels mixed to
// mono, then at most `points` buckets (the loudest window of each), scaled to 0..255.
class Loudness {
 public:
  explicit Loudness(int sample_rate) : window_(std::max(1, sample_rate / 100)) {}

  void Add(const AVFrame* frame) {
    const auto fmt = static_cast<AVSampleFormat>(frame->format);
    const int channels = std::max(1, frame->ch_layout.nb_channels);
    const bool planar = av_sample_fmt_is_planar(fmt) != 0;
    const AVSampleFormat packed = av_get_packed_sample_fmt(fmt);
    for (int i = 0; i < frame->nb_samples; ++i) {
      double mono = 0;
      for (int c = 0; c < channels; ++c) {
        const std::uint8_t* base = frame->extended_data[planar ? c : 0];
        const int at = planar ? i : i * channels + c;
        mono += Sample(base, packed, at);
      }
      mono /= channels;
      sum_ += mono * mono;
      if (++in_window_ == window_) Flush();
    }
    samples_ += static_cast<std::uint64_t>(frame->nb_samples);
  }

  std::uint64_t samples() const { return samples_; }

  std::vector<int> Waveform(int points) {
    if (in_window_ > 0) Flush();
    const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(points), rms_.size());
    std::vector<double> buckets(n, 0.0);
    for (std::size_t i = 0; i < rms_.size() && n > 0; ++i) {
      double& b = buckets[i * n / rms_.size()];
      b = std::max(b, rms_[i]);
    }
    const double peak = buckets.empty() ? 0 : *std::max_element(buckets.begin(), buckets.end());
    std::vector<int> out(n, 0);
    if (peak < 1e-4) return out;  // silence (below -80 dBFS) draws flat
    for (std::size_t i = 0; i < n; ++i) {
      out[i] = static_cast<int>(std::lround(std::clamp(buckets[i] / peak, 0.0, 1.0) * 255.0));
    }
    return out;
  }

 private:
  static double Sample(const std::uint8_t* base, AVSampleFormat packed, int at) {
    switch (packed) {
      case AV_SAMPLE_FMT_U8:
        return (base[at] - 128) / 128.0;
      case AV_SAMPLE_FMT_S16:
        return reinterpret_cast<const std::int16_t*>(base)[at] / 32768.0;
      case AV_SAMPLE_FMT_S32:
        return reinterpret_cast<const std::int32_t*>(base)[at] / 2147483648.0;
      case AV_SAMPLE_FMT_FLT:
        return static_cast<double>(reinterpret_cast<const float*>(base)[at]);
      case AV_SAMPLE_FMT_DBL:
        return reinterpret_cast<const double*>(base)[at];
      default:
        return 0;
    }
  }
  void Flush() {
    rms_.push_back(std::sqrt(sum_ / in_window_));
    sum_ = 0;
    in_window_ = 0;
  }

  int window_;
  int in_window_ = 0;
  double sum_ = 0;
  std::uint64_t samples_ = 0;
  std::vector<double> rms_;
};

}  // namespace

Result<VideoInfo> ProbeVideo(const std::string& src_path, const std::string& out_dir,
                             const Limits& limits) {
  if (auto init = InitMediaProcessing(); !init) return std::move(init).error();
  if (auto dir = internal::CheckOutDir(out_dir); !dir) return std::move(dir).error();
  auto fmt = OpenInput(src_path, kVideoFormats);
  if (!fmt) return std::move(fmt).error();
  auto dec = OpenDecoder(fmt->get(), AVMEDIA_TYPE_VIDEO, kVideoCodecs, std::size(kVideoCodecs));
  if (!dec) return std::move(dec).error();
  const int index = dec->first;
  const AVStream* st = (*fmt)->streams[index];
  const auto w = static_cast<std::uint64_t>(st->codecpar->width);
  const auto h = static_cast<std::uint64_t>(st->codecpar->height);
  if (w == 0 || h == 0) return InputError(kCorruptMedia, "video has no dimensions");
  if (w * h > limits.max_pixels) return InputError(kImageTooLarge, "video frame is too large");
  VideoInfo info;
  info.duration_s = ContainerDuration(fmt->get(), st);
  if (info.duration_s > limits.max_duration_s) {
    return InputError(kMediaTooLong, "video is longer than allowed");
  }
  const int rotation = StreamRotation(st);
  const bool sideways = rotation == 90 || rotation == 270;
  info.width = static_cast<int>(sideways ? h : w);
  info.height = static_cast<int>(sideways ? w : h);
  info.video_codec = avcodec_get_name(st->codecpar->codec_id);
  info.has_audio = av_find_best_stream(fmt->get(), AVMEDIA_TYPE_AUDIO, -1, -1, nullptr, 0) >= 0;
  auto poster = Poster(fmt->get(), dec->second.get(), index, rotation, out_dir, limits);
  if (!poster) return std::move(poster).error();
  info.poster = std::move(*poster);
  if (info.duration_s < 0) info.duration_s = ScanDuration(fmt->get(), index);
  if (info.duration_s < 0) return InputError(kCorruptMedia, "video duration unknown");
  if (info.duration_s > limits.max_duration_s) {
    return InputError(kMediaTooLong, "video is longer than allowed");
  }
  return info;
}

Result<VoiceInfo> ProbeVoice(const std::string& src_path, const Limits& limits) {
  if (auto init = InitMediaProcessing(); !init) return std::move(init).error();
  auto fmt = OpenInput(src_path, kVoiceFormats);
  if (!fmt) return std::move(fmt).error();
  auto dec = OpenDecoder(fmt->get(), AVMEDIA_TYPE_AUDIO, kVoiceCodecs, std::size(kVoiceCodecs));
  if (!dec) return std::move(dec).error();
  AVCodecContext* codec = dec->second.get();
  const int rate = codec->sample_rate;
  if (rate <= 0) return InputError(kCorruptMedia, "audio has no sample rate");
  const AVStream* st = (*fmt)->streams[dec->first];
  if (ContainerDuration(fmt->get(), st) > limits.max_duration_s) {
    return InputError(kMediaTooLong, "voice note is longer than allowed");
  }
  const auto max_samples = static_cast<std::uint64_t>(limits.max_duration_s * rate);
  Loudness loudness(rate);
  bool too_long = false;
  auto decoded = DecodeStream(fmt->get(), codec, dec->first, 0, [&](const AVFrame* frame) {
    loudness.Add(frame);
    too_long = loudness.samples() > max_samples;
    return !too_long;
  });
  if (!decoded) return std::move(decoded).error();
  if (too_long) return InputError(kMediaTooLong, "voice note is longer than allowed");
  if (loudness.samples() == 0) return InputError(kCorruptMedia, "no audio could be decoded");
  VoiceInfo info;
  info.duration_s = static_cast<double>(loudness.samples()) / rate;
  info.waveform = loudness.Waveform(std::clamp(limits.waveform_points, 1, 64));
  info.codec = avcodec_get_name(st->codecpar->codec_id);
  return info;
}

}  // namespace tchat::messaging::media
