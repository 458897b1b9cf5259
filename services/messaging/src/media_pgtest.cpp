// Attachments in PostgreSQL (migrations/postgres/tchat_messaging/000007_media):
// the triggers that attach an upload to a message in the send's own transaction
// (through PgMessageStore::Append, msg_send_batch unchanged), the owner check,
// forwards (migration 000011: a media posted where the sender is a member, checked
// under locks), detaching on delete, and MediaStore's sweep, also while a send
// holds the row; avatars (000012_avatars): set, read, kept from the sweeper,
// removed, forgotten.
// TCHAT_TEST_PG_URL (a superuser libpq URI) is required.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <tchat/core/pg/pool.hpp>
#include <tchat/core/testing/pg_scratch.hpp>
#include <tchat/core/uuid.hpp>

#include "conversation_store.hpp"
#include "media_service.hpp"
#include "media_store.hpp"
#include "pg_message_store.hpp"

namespace tchat::messaging {
namespace {

using namespace tchat::pgtest;  // NOLINT: test helpers

class MediaPgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_.Create("tchat_media_pgtest", TCHAT_SOURCE_DIR, "tchat_messaging", 6);
  }
  void TearDown() override { db_.Drop(); }
  void Run(const std::function<Task<void>(pg::Pool&)>& body) {
    RunWithPool(db_.Pool("media_pgtest", 3), body);
  }
  ScratchDatabase db_;
};

Task<Status> MakeConversation(pg::Pool& pool, const std::string& id, const std::string& a,
                              const std::string& b) {
  auto c = co_await pool.Query(
      "INSERT INTO conversations (id, type, created_by) VALUES ($1::uuid, 'group', $2::uuid)", id,
      a);
  if (!c) co_return std::move(c).error();
  auto m = co_await pool.Query(
      "INSERT INTO members (conversation_id, user_id, role) VALUES ($1::uuid, $2::uuid, 'owner'),"
      " ($1::uuid, $3::uuid, 'member')",
      id, a, b);
  if (!m) co_return std::move(m).error();
  co_return Ok();
}

MediaRow Upload(const std::string& owner) {
  MediaRow m;
  m.id = NewUuidV7();
  m.owner_id = owner;
  m.kind = "image";
  m.content_type = "image/png";
  m.bytes = 100;
  m.sha256 = std::string(64, 'a');
  return m;
}

AppendRequest WithMedia(const std::string& conv, const std::string& sender, const MediaRow& m) {
  AppendRequest r;
  r.id = NewUuidV7();
  r.event_id = NewUuidV7();
  r.conversation_id = conv;
  r.sender_id = sender;
  r.type = "image";
  r.client_msg_id = NewUuidV7();
  r.attachment = MediaService::AttachmentJson(m);
  return r;
}

// One message through Append; its result (the batch's only answer).
Task<Result<AppendOutcome>> SendOne(PgMessageStore& messages, AppendRequest r) {
  std::vector<AppendRequest> batch;
  batch.push_back(std::move(r));
  auto out = co_await messages.Append(batch);
  if (!out) co_return std::move(out).error();
  co_return std::move((*out)[0]);
}

Task<Result<std::int64_t>> MessagesIn(pg::Pool& pool, const std::string& conv) {
  auto r = co_await pool.Query("SELECT count(*) FROM messages WHERE conversation_id = $1", conv);
  if (!r) co_return std::move(r).error();
  co_return r->GetInt64(0, 0);
}

Task<Result<std::int64_t>> Refs(pg::Pool& pool, const std::string& media_id) {
  auto r = co_await pool.Query("SELECT count(*) FROM media_refs WHERE media_id = $1", media_id);
  if (!r) co_return std::move(r).error();
  co_return r->GetInt64(0, 0);
}

TEST_F(MediaPgTest, SendAttachesTheSendersUploadAndRefusesAnothersUpload) {
  Run([&](pg::Pool& pool) -> Task<void> {
    const std::string alice = NewUuidV7(), bob = NewUuidV7(), conv = NewUuidV7();
    CO_ASSERT_OK(co_await MakeConversation(pool, conv, alice, bob));
    MediaStore media(pool);
    PgMessageStore messages(pool);
    const MediaRow photo = Upload(alice);
    CO_ASSERT_OK(co_await media.Insert(photo));

    // Bob sends Alice's upload: the whole write fails, no message, no ref.
    std::vector<AppendRequest> batch1;
    batch1.push_back(WithMedia(conv, bob, photo));
    auto stolen = co_await messages.Append(batch1);
    EXPECT_FALSE(stolen.ok());
    if (!stolen.ok()) {
      EXPECT_EQ(stolen.error().sqlstate, "42501");
    }
    auto count = co_await pool.Query("SELECT count(*) FROM messages");
    CO_ASSERT_TRUE(count.ok());
    EXPECT_EQ(count->GetInt64(0, 0), 0);
    auto refs1 = co_await Refs(pool, photo.id);
    CO_ASSERT_OK(refs1);
    EXPECT_EQ(*refs1, 0);

    // An upload that does not exist: refused as well.
    std::vector<AppendRequest> batch2;
    batch2.push_back(WithMedia(conv, alice, Upload(alice)));
    auto gone = co_await messages.Append(batch2);
    EXPECT_FALSE(gone.ok());

    // Alice sends it twice (a forward): two refs, attached.
    std::vector<AppendRequest> batch3;
    batch3.push_back(WithMedia(conv, alice, photo));
    auto sent = co_await messages.Append(batch3);
    CO_ASSERT_OK(sent);
    EXPECT_EQ((*sent)[0].status, AppendStatus::kOk);
    std::vector<AppendRequest> batch4;
    batch4.push_back(WithMedia(conv, alice, photo));
    auto again = co_await messages.Append(batch4);
    CO_ASSERT_OK(again);
    auto refs2 = co_await Refs(pool, photo.id);
    CO_ASSERT_OK(refs2);
    EXPECT_EQ(*refs2, 2);
    auto row = co_await media.Get(photo.id);
    CO_ASSERT_OK(row);
    EXPECT_TRUE(row->attached);
    auto bob_reads = co_await media.CanRead(photo.id, bob);
    CO_ASSERT_OK(bob_reads);
    EXPECT_TRUE(*bob_reads);
    auto stranger = co_await media.CanRead(photo.id, NewUuidV7());
    CO_ASSERT_OK(stranger);
    EXPECT_FALSE(*stranger);

    // Deleting one message drops its ref only; deleting both frees the upload.
    const std::int64_t seq1 = (*sent)[0].message.seq, seq2 = (*again)[0].message.seq;
    CO_ASSERT_OK(co_await messages.Delete(conv, seq1, alice, false, NewUuidV7()));
    auto refs3 = co_await Refs(pool, photo.id);
    CO_ASSERT_OK(refs3);
    EXPECT_EQ(*refs3, 1);
    auto kept = co_await media.Sweep(std::chrono::hours(24), 100);
    CO_ASSERT_OK(kept);
    EXPECT_TRUE(kept->empty());
    CO_ASSERT_OK(co_await messages.Delete(conv, seq2, alice, false, NewUuidV7()));
    auto refs4 = co_await Refs(pool, photo.id);
    CO_ASSERT_OK(refs4);
    EXPECT_EQ(*refs4, 0);
    auto swept = co_await media.Sweep(std::chrono::hours(24), 100);
    CO_ASSERT_OK(swept);
    CO_ASSERT_TRUE(swept->size() == 1u);
    EXPECT_EQ((*swept)[0].sha256, photo.sha256);
    auto in_use = co_await media.HashInUse(photo.sha256);
    CO_ASSERT_OK(in_use);
    EXPECT_FALSE(*in_use);
  });
}

TEST_F(MediaPgTest, AMemberForwardsAPostedMediaAndNobodyElseCan) {
  Run([&](pg::Pool& pool) -> Task<void> {
    const std::string alice = NewUuidV7(), bob = NewUuidV7(), carol = NewUuidV7(),
                      dave = NewUuidV7();
    const std::string source = NewUuidV7(), target = NewUuidV7(), other = NewUuidV7();
    CO_ASSERT_OK(co_await MakeConversation(pool, source, alice, bob));
    CO_ASSERT_OK(co_await MakeConversation(pool, target, bob, carol));
    CO_ASSERT_OK(co_await MakeConversation(pool, other, dave, carol));
    MediaStore media(pool);
    PgMessageStore messages(pool);
    const MediaRow photo = Upload(alice);
    CO_ASSERT_OK(co_await media.Insert(photo));

    // Not posted yet: an upload stays its uploader's, even for Bob.
    auto early = co_await SendOne(messages, WithMedia(target, bob, photo));
    CO_ASSERT_TRUE(!early.ok());
    EXPECT_EQ(early.error().sqlstate, "42501");

    auto posted = co_await SendOne(messages, WithMedia(source, alice, photo));
    CO_ASSERT_OK(posted);
    CO_ASSERT_TRUE(posted->status == AppendStatus::kOk);
    // Bob, a member of the source, forwards it to Carol: its own ref.
    auto fwd = co_await SendOne(messages, WithMedia(target, bob, photo));
    CO_ASSERT_OK(fwd);
    CO_ASSERT_TRUE(fwd->status == AppendStatus::kOk);
    auto refs = co_await Refs(pool, photo.id);
    CO_ASSERT_OK(refs);
    EXPECT_EQ(*refs, 2);
    auto carol_reads = co_await media.CanRead(photo.id, carol);
    CO_ASSERT_OK(carol_reads);
    EXPECT_TRUE(*carol_reads);

    // Dave is in no conversation that carries it: refused, nothing written.
    auto stranger = co_await SendOne(messages, WithMedia(other, dave, photo));
    CO_ASSERT_TRUE(!stranger.ok());
    EXPECT_EQ(stranger.error().sqlstate, "42501");
    auto in_other = co_await MessagesIn(pool, other);
    CO_ASSERT_OK(in_other);
    EXPECT_EQ(*in_other, 0);

    // Deleting the original keeps the forward (and the file) alive.
    CO_ASSERT_OK(co_await messages.Delete(source, posted->message.seq, alice, false, NewUuidV7()));
    auto kept = co_await media.Sweep(std::chrono::hours(24), 100);
    CO_ASSERT_OK(kept);
    EXPECT_TRUE(kept->empty());
    auto still = co_await media.CanRead(photo.id, carol);
    CO_ASSERT_OK(still);
    EXPECT_TRUE(*still);
    // The uploader posts it again (a second ref in the source).
    auto again = co_await SendOne(messages, WithMedia(source, alice, photo));
    CO_ASSERT_OK(again);

    // Carol forwards from the target; once removed from it, she cannot.
    auto carol_fwd = co_await SendOne(messages, WithMedia(other, carol, photo));
    CO_ASSERT_OK(carol_fwd);
    CO_ASSERT_TRUE(carol_fwd->status == AppendStatus::kOk);
    CO_ASSERT_TRUE(
        (co_await pool.Query("DELETE FROM members WHERE conversation_id = $1 AND user_id = $2",
                             target, carol))
            .ok());
    // (She is still in `other`, which now carries it too: that one goes as well.)
    CO_ASSERT_OK(
        co_await messages.Delete(other, carol_fwd->message.seq, carol, false, NewUuidV7()));
    auto removed = co_await SendOne(messages, WithMedia(other, carol, photo));
    CO_ASSERT_TRUE(!removed.ok());
    EXPECT_EQ(removed.error().sqlstate, "42501");
    auto refs2 = co_await Refs(pool, photo.id);
    CO_ASSERT_OK(refs2);
    EXPECT_EQ(*refs2, 2);  // Bob's forward and Alice's second post
    // The forward counts in the uploader's quota only.
    auto bob_used = co_await media.UsedBytes(bob);
    CO_ASSERT_OK(bob_used);
    EXPECT_EQ(*bob_used, 0);
  });
}

TEST_F(MediaPgTest, AForwardWaitsForARemovalFromItsSourceThenIsRefused) {
  // A send that waits for a lock gives up after 1 s here (instead of hanging).
  AdminExec(db_.admin_url, "ALTER DATABASE " + db_.name + " SET lock_timeout = '1s'");
  Run([&](pg::Pool& pool) -> Task<void> {
    const std::string alice = NewUuidV7(), bob = NewUuidV7(), carol = NewUuidV7();
    const std::string source = NewUuidV7(), target = NewUuidV7();
    CO_ASSERT_OK(co_await MakeConversation(pool, source, alice, bob));
    CO_ASSERT_OK(co_await MakeConversation(pool, target, bob, carol));
    MediaStore media(pool);
    PgMessageStore messages(pool);
    const MediaRow photo = Upload(alice);
    CO_ASSERT_OK(co_await media.Insert(photo));
    auto posted = co_await SendOne(messages, WithMedia(source, alice, photo));
    CO_ASSERT_OK(posted);

    // Bob's removal from the source is under way (not committed): his forward
    // cannot commit on the membership it still sees; it waits for the removal
    // (here until its lock timeout, 55P03).
    auto lease = co_await pool.Acquire();
    CO_ASSERT_TRUE(lease.ok());
    pg::Connection& tx = **lease;
    CO_ASSERT_TRUE((co_await tx.Query("BEGIN")).ok());
    CO_ASSERT_TRUE(
        (co_await tx.Query("DELETE FROM members WHERE conversation_id = $1 AND user_id = $2",
                           source, bob))
            .ok());
    auto waiting = co_await SendOne(messages, WithMedia(target, bob, photo));
    CO_ASSERT_TRUE(!waiting.ok());
    EXPECT_EQ(waiting.error().sqlstate, "55P03");
    CO_ASSERT_TRUE((co_await tx.Query("COMMIT")).ok());
    // Once it committed, the forward is refused; nothing reached the target.
    auto after = co_await SendOne(messages, WithMedia(target, bob, photo));
    CO_ASSERT_TRUE(!after.ok());
    EXPECT_EQ(after.error().sqlstate, "42501");
    auto in_target = co_await MessagesIn(pool, target);
    CO_ASSERT_OK(in_target);
    EXPECT_EQ(*in_target, 0);
  });
}

TEST_F(MediaPgTest, SweepTakesOldUnattachedUploadsAndSkipsOneBeingSent) {
  Run([&](pg::Pool& pool) -> Task<void> {
    const std::string alice = NewUuidV7();
    MediaStore media(pool);
    const MediaRow fresh = Upload(alice);
    MediaRow old = Upload(alice), busy = Upload(alice);
    old.sha256 = std::string(64, 'b');
    CO_ASSERT_OK(co_await media.Insert(fresh));
    CO_ASSERT_OK(co_await media.Insert(old));
    CO_ASSERT_OK(co_await media.Insert(busy));
    CO_ASSERT_TRUE((co_await pool.Query("UPDATE media SET created_at = now() - interval '25 hours' "
                                        "WHERE id IN ($1, $2)",
                                        old.id, busy.id))
                       .ok());
    // A send attaching `busy` holds its row (the trigger's UPDATE) while the
    // sweeper runs: the sweeper skips it rather than delete it under the send.
    auto lease = co_await pool.Acquire();
    CO_ASSERT_TRUE(lease.ok());
    pg::Connection& tx = **lease;
    CO_ASSERT_TRUE((co_await tx.Query("BEGIN")).ok());
    CO_ASSERT_TRUE(
        (co_await tx.Query("UPDATE media SET attached_at = now() WHERE id = $1", busy.id)).ok());
    auto swept = co_await media.Sweep(std::chrono::hours(24), 100);
    CO_ASSERT_OK(swept);
    CO_ASSERT_TRUE(swept->size() == 1u);
    EXPECT_EQ((*swept)[0].sha256, old.sha256);
    CO_ASSERT_TRUE((co_await tx.Query("ROLLBACK")).ok());
    // Once the send is gone (rolled back here), the next sweep takes it; the
    // fresh upload stays.
    auto next = co_await media.Sweep(std::chrono::hours(24), 100);
    CO_ASSERT_OK(next);
    EXPECT_EQ(next->size(), 1u);
    auto still = co_await media.Get(fresh.id);
    EXPECT_TRUE(still.ok());
    auto used = co_await media.UsedBytes(alice);
    CO_ASSERT_OK(used);
    EXPECT_EQ(*used, 100);
  });
}

TEST_F(MediaPgTest, AvatarIsTheOwnersPhotoKeptFromTheSweeperUntilRemoved) {
  Run([&](pg::Pool& pool) -> Task<void> {
    const std::string alice = NewUuidV7(), bob = NewUuidV7();
    MediaStore media(pool);
    const MediaRow pic = Upload(alice), bobs = Upload(bob);
    MediaRow voice = Upload(alice);
    voice.kind = "voice";
    voice.content_type = "audio/ogg";
    voice.sha256 = std::string(64, 'c');
    CO_ASSERT_OK(co_await media.Insert(pic));
    CO_ASSERT_OK(co_await media.Insert(bobs));
    CO_ASSERT_OK(co_await media.Insert(voice));

    auto set = co_await media.SetAvatar(alice, pic.id);
    CO_ASSERT_OK(set);
    EXPECT_EQ(set->media.id, pic.id);
    EXPECT_TRUE(set->media.attached);
    // Someone else's upload and a voice note are refused; the avatar stays.
    auto theirs = co_await media.SetAvatar(alice, bobs.id);
    EXPECT_TRUE(!theirs.ok() && theirs.error().IsNotFound());
    auto not_image = co_await media.SetAvatar(alice, voice.id);
    EXPECT_TRUE(!not_image.ok() && not_image.error().IsNotFound());
    // Bob (any user) reads it; Bob has none.
    // Named vectors: GCC cannot keep an initializer list across a co_await.
    const std::vector<std::string> both = {alice, bob}, only_alice = {alice};
    auto seen = co_await media.Avatars(both);
    CO_ASSERT_OK(seen);
    CO_ASSERT_TRUE(seen->size() == 1u);
    EXPECT_EQ((*seen)[0].user_id, alice);
    EXPECT_EQ((*seen)[0].media.id, pic.id);

    // Old and carried by no message: the sweeper leaves it while it is the avatar.
    CO_ASSERT_TRUE((co_await pool.Query("UPDATE media SET created_at = now() - interval '25 hours' "
                                        "WHERE id = $1",
                                        pic.id))
                       .ok());
    auto kept = co_await media.Sweep(std::chrono::hours(24), 100);
    CO_ASSERT_OK(kept);
    EXPECT_EQ(kept->size(), 0u);

    auto removed = co_await media.RemoveAvatar(alice);
    CO_ASSERT_OK(removed);
    EXPECT_TRUE(*removed);
    auto again = co_await media.RemoveAvatar(alice);
    CO_ASSERT_OK(again);
    EXPECT_FALSE(*again);
    auto none = co_await media.Avatars(only_alice);
    CO_ASSERT_OK(none);
    EXPECT_TRUE(none->empty());
    // No longer the avatar: swept like an upload no message carries.
    auto swept = co_await media.Sweep(std::chrono::hours(24), 100);
    CO_ASSERT_OK(swept);
    CO_ASSERT_TRUE(swept->size() == 1u);
    EXPECT_EQ((*swept)[0].sha256, pic.sha256);
  });
}

TEST_F(MediaPgTest, ForgettingADeletedUserDeletesTheirAvatar) {
  Run([&](pg::Pool& pool) -> Task<void> {
    const std::string gone = NewUuidV7(), bob = NewUuidV7();
    MediaStore media(pool);
    const MediaRow pic = Upload(gone), bobs = Upload(bob);
    CO_ASSERT_OK(co_await media.Insert(pic));
    CO_ASSERT_OK(co_await media.Insert(bobs));
    CO_ASSERT_OK(co_await media.SetAvatar(gone, pic.id));
    CO_ASSERT_OK(co_await media.SetAvatar(bob, bobs.id));
    ConversationStore store(pool);
    auto done = co_await store.ForgetUser(gone, NewUuidV7());
    CO_ASSERT_OK(done);
    EXPECT_EQ(done->media, 1);
    const std::vector<std::string> both = {gone, bob};
    auto left = co_await media.Avatars(both);
    CO_ASSERT_OK(left);
    CO_ASSERT_TRUE(left->size() == 1u);
    EXPECT_EQ((*left)[0].user_id, bob);
    auto row = co_await media.Get(pic.id);
    EXPECT_TRUE(!row.ok() && row.error().IsNotFound());
  });
}

}  // namespace
}  // namespace tchat::messaging
