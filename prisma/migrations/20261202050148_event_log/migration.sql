-- CreateTable
CREATE TABLE "EventLog" (
    "position" BIGSERIAL NOT NULL,
    "topic" TEXT NOT NULL,
    "channel" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "EventLog_pkey" PRIMARY KEY ("position")
);

-- CreateTable
CREATE TABLE "EventLogState" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "epoch" TEXT NOT NULL,
    "prunedThrough" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "EventLogState_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "EventLog_channel_position_idx" ON "EventLog"("channel", "position");

-- CreateIndex
CREATE INDEX "EventLog_createdAt_idx" ON "EventLog"("createdAt");

-- The log's identity: a cursor from another database (a wiped dev data dir, another deployment) is refused,
-- never taken for an event of this one.
INSERT INTO "EventLogState" ("id", "epoch") VALUES (1, substr(md5(random()::text || clock_timestamp()::text), 1, 8));

-- Appends one durable event inside the writing transaction. The transaction-scoped advisory lock makes
-- appends one at a time from here to commit: a position is drawn only after every earlier one has committed
-- or rolled back, so positions become visible in order and a reader that has seen position N has seen every
-- event before it. A resume from a cursor can therefore never skip a write that committed late.
CREATE FUNCTION herald_append_event(event_topic TEXT, event_channel TEXT, event_payload JSONB) RETURNS VOID AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7249118031);
  INSERT INTO "EventLog" ("topic", "channel", "payload", "createdAt")
  VALUES (event_topic, event_channel, event_payload, clock_timestamp() AT TIME ZONE 'UTC');
END;
$$ LANGUAGE plpgsql;

-- postUpdated: a post created, deleted, or written with a title, content or status (what the publishing
-- extension announced before; counter updates never list those columns, so they append nothing).
CREATE FUNCTION herald_post_event() RETURNS TRIGGER AS $$
DECLARE
  post RECORD;
  post_change TEXT;
BEGIN
  IF TG_OP = 'DELETE' THEN
    post := OLD;
    post_change := 'DELETED';
  ELSE
    post := NEW;
    IF TG_OP = 'INSERT' THEN
      post_change := 'CREATED';
    ELSIF NEW."status" = 'PUBLISHED' AND OLD."status" IS DISTINCT FROM 'PUBLISHED' THEN
      post_change := 'PUBLISHED';
    ELSE
      post_change := 'UPDATED';
    END IF;
  END IF;
  PERFORM herald_append_event('postUpdated', 'postUpdated:' || post."id", jsonb_build_object(
    'postId', post."id", 'authorId', post."authorId", 'status', post."status", 'change', post_change,
    'version', floor(extract(epoch FROM post."updatedAt") * 1000)::bigint));
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER "Post_event_created_deleted" AFTER INSERT OR DELETE ON "Post"
  FOR EACH ROW EXECUTE FUNCTION herald_post_event();
CREATE TRIGGER "Post_event_updated" AFTER UPDATE OF "title", "content", "status" ON "Post"
  FOR EACH ROW EXECUTE FUNCTION herald_post_event();

-- commentAdded on insert, commentApproved when a write sets APPROVED; both carry the post's author so
-- subscription filters decide visibility without a query per subscriber.
CREATE FUNCTION herald_comment_event() RETURNS TRIGGER AS $$
DECLARE
  post_author TEXT;
  event_topic TEXT;
BEGIN
  SELECT "authorId" INTO post_author FROM "Post" WHERE "id" = NEW."postId";
  IF post_author IS NULL THEN
    RETURN NULL;
  END IF;
  event_topic := CASE WHEN TG_OP = 'INSERT' THEN 'commentAdded' ELSE 'commentApproved' END;
  PERFORM herald_append_event(event_topic, event_topic || ':' || NEW."postId", jsonb_build_object(
    'postId', NEW."postId", 'commentId', NEW."id", 'authorId', NEW."authorId", 'postAuthorId', post_author,
    'status', NEW."status"));
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER "Comment_event_added" AFTER INSERT ON "Comment"
  FOR EACH ROW EXECUTE FUNCTION herald_comment_event();
CREATE TRIGGER "Comment_event_approved" AFTER UPDATE OF "status" ON "Comment"
  FOR EACH ROW WHEN (NEW."status" = 'APPROVED') EXECUTE FUNCTION herald_comment_event();

-- notificationCreated on the recipient's channel; a broadcast (audience ALL, stored once) on the one
-- broadcast channel.
CREATE FUNCTION herald_notification_event() RETURNS TRIGGER AS $$
BEGIN
  IF NEW."audience" = 'ALL' THEN
    PERFORM herald_append_event('broadcastNotificationCreated', 'broadcastNotificationCreated', jsonb_build_object(
      'notificationId', NEW."id", 'type', NEW."type", 'actorId', NEW."actorId"));
  ELSIF NEW."recipientId" IS NOT NULL THEN
    PERFORM herald_append_event('notificationCreated', 'notificationCreated:' || NEW."recipientId", jsonb_build_object(
      'notificationId', NEW."id", 'recipientId', NEW."recipientId", 'type', NEW."type"));
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER "Notification_event_created" AFTER INSERT ON "Notification"
  FOR EACH ROW EXECUTE FUNCTION herald_notification_event();
