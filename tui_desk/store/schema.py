"""Versioned schema. Each entry upgrades from user_version i to i+1; never edit a shipped one."""

MIGRATIONS: list[str] = [
    # 1: messages, raw bytes, threading map, conversations, tags, full-text index
    """
    CREATE TABLE messages (
        id            INTEGER PRIMARY KEY,
        message_id    TEXT NOT NULL UNIQUE,
        synthetic_id  INTEGER NOT NULL DEFAULT 0,
        conv_id       INTEGER NOT NULL,
        date          INTEGER,              -- unix seconds, UTC; NULL when the mail has none
        sender_name   TEXT NOT NULL DEFAULT '',
        sender_addr   TEXT NOT NULL DEFAULT '',
        sender_key    TEXT NOT NULL DEFAULT '',  -- lower-cased address
        to_json       TEXT NOT NULL DEFAULT '[]',
        cc_json       TEXT NOT NULL DEFAULT '[]',
        reply_to_json TEXT NOT NULL DEFAULT '[]',
        subject       TEXT NOT NULL DEFAULT '',
        in_reply_to   TEXT,
        refs_json     TEXT NOT NULL DEFAULT '[]',
        body          TEXT NOT NULL DEFAULT '',
        body_from_html INTEGER NOT NULL DEFAULT 0,
        attachments_json TEXT NOT NULL DEFAULT '[]',
        defects_json  TEXT NOT NULL DEFAULT '[]',
        auto_submitted INTEGER NOT NULL DEFAULT 0,
        is_agent      INTEGER NOT NULL DEFAULT 0,
        size          INTEGER NOT NULL DEFAULT 0,
        error         TEXT,                 -- set when parsing failed outright; raw is still kept
        source        TEXT NOT NULL DEFAULT '',
        added_at      INTEGER NOT NULL
    );
    CREATE INDEX messages_conv ON messages(conv_id, date);
    CREATE INDEX messages_sender ON messages(sender_key);

    -- zlib-compressed RFC 822 bytes, apart from the hot table so scans stay small
    CREATE TABLE raw_messages (
        id   INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
        data BLOB NOT NULL
    );

    -- Threading: every Message-ID seen, as a message or only as a reference, maps to the
    -- conversation it belongs to. A conversation is a connected component of the reference
    -- graph, so the grouping does not depend on arrival order.
    CREATE TABLE thread_ids (
        msgid   TEXT PRIMARY KEY,
        conv_id INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX thread_ids_conv ON thread_ids(conv_id);

    CREATE TABLE conversations (
        id              INTEGER PRIMARY KEY,
        subject         TEXT NOT NULL DEFAULT '',
        customer_name   TEXT NOT NULL DEFAULT '',
        customer_key    TEXT NOT NULL DEFAULT '',
        status          TEXT NOT NULL DEFAULT 'open',
        status_set_at   INTEGER,            -- when an agent set closed/spam explicitly
        assignee        TEXT,
        snooze_until    INTEGER,
        message_count   INTEGER NOT NULL DEFAULT 0,
        first_date      INTEGER,
        last_date       INTEGER,
        last_customer_date INTEGER,
        last_agent_date INTEGER,
        waiting_since   INTEGER,            -- the first customer mail not yet answered, or a reopen after the last mail; NULL if none
        burst           INTEGER NOT NULL DEFAULT 0,  -- most customer mails within the burst window
        rank            REAL NOT NULL DEFAULT 0      -- lower = answer sooner; time-invariant
    );
    CREATE INDEX conversations_queue ON conversations(status, rank);
    CREATE INDEX conversations_last ON conversations(last_date);
    CREATE INDEX conversations_customer ON conversations(customer_key);

    -- old conversation id -> the one it was merged into, so [#N] markers keep working
    CREATE TABLE conv_aliases (
        old_id INTEGER PRIMARY KEY,
        new_id INTEGER NOT NULL
    );

    CREATE TABLE tags (
        conv_id INTEGER NOT NULL,
        tag     TEXT NOT NULL,
        PRIMARY KEY (conv_id, tag)
    ) WITHOUT ROWID;
    CREATE INDEX tags_tag ON tags(tag);

    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID;

    -- rowid = messages.id. Text is pre-segmented (see store.fts) so CJK words are findable.
    CREATE VIRTUAL TABLE messages_fts USING fts5(
        subject, body, sender, recipients,
        tokenize = 'unicode61 remove_diacritics 2'
    );
    """,
    # 2: IMAP mirror state, headers-first bodies, the queue of operations for the server
    """
    ALTER TABLE messages ADD COLUMN body_state TEXT NOT NULL DEFAULT 'full';  -- headers | full | too_big
    CREATE INDEX messages_body_pending ON messages(body_state) WHERE body_state != 'full';

    CREATE TABLE folders (
        id            INTEGER PRIMARY KEY,
        account       TEXT NOT NULL,
        name          TEXT NOT NULL,
        role          TEXT NOT NULL DEFAULT 'queue',   -- queue | sent
        uidvalidity   INTEGER,
        highestmodseq INTEGER,         -- NULL: server without CONDSTORE
        synced_uid    INTEGER NOT NULL DEFAULT 0,      -- every UID up to here has its headers stored
        UNIQUE (account, name)
    );

    CREATE TABLE imap_messages (
        folder_id  INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
        uid        INTEGER NOT NULL,
        message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        flags      TEXT NOT NULL DEFAULT '',   -- space-separated, as the server spells them
        modseq     INTEGER,
        size       INTEGER,
        PRIMARY KEY (folder_id, uid)
    ) WITHOUT ROWID;
    CREATE INDEX imap_messages_message ON imap_messages(message_id);

    -- Local changes waiting to reach the server, replayed in id order, idempotent.
    CREATE TABLE server_ops (
        id         INTEGER PRIMARY KEY,
        account    TEXT NOT NULL,
        kind       TEXT NOT NULL,      -- flags
        message_id TEXT NOT NULL,      -- Message-ID; resolved to folder/UID at replay time
        args_json  TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        attempts   INTEGER NOT NULL DEFAULT 0,
        last_error TEXT
    );
    """,
    # 3: snooze until a reply, and when a snooze ended early
    """
    ALTER TABLE conversations ADD COLUMN snooze_reply INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE conversations ADD COLUMN snooze_set_at INTEGER;
    ALTER TABLE conversations ADD COLUMN woke_at INTEGER;   -- the customer wrote while snoozed
    """,
    # 4: the outbox (durable sending) and drafts
    """
    CREATE TABLE outbox (
        id            INTEGER PRIMARY KEY,
        account       TEXT NOT NULL,
        conv_id       INTEGER,
        message_id    TEXT NOT NULL UNIQUE,   -- ours, without brackets
        raw           BLOB NOT NULL,          -- built once: a retry sends the same bytes
        mail_from     TEXT NOT NULL,
        rcpt_json     TEXT NOT NULL,
        body_markdown TEXT NOT NULL,          -- for undo back to a draft
        state         TEXT NOT NULL,          -- queued | sending | sent | done | failed | maybe_sent | held
        send_at       INTEGER NOT NULL,       -- not before: undo window or "send later"
        attempts      INTEGER NOT NULL DEFAULT 0,
        next_try      INTEGER,
        last_error    TEXT,
        created_at    INTEGER NOT NULL,
        sent_at       INTEGER
    );
    CREATE INDEX outbox_state ON outbox(state, send_at);

    CREATE TABLE drafts (
        conv_id       INTEGER PRIMARY KEY,
        body_markdown TEXT NOT NULL,
        reply_all     INTEGER NOT NULL DEFAULT 0,
        error         TEXT,                   -- why it came back from the outbox, if it did
        updated_at    INTEGER NOT NULL
    );
    """,
    # 5: internal notes live beside the mail of a conversation, never sent to the customer
    """
    ALTER TABLE messages ADD COLUMN is_note INTEGER NOT NULL DEFAULT 0;
    """,
    # 6: the queue read straight from one covering index
    """
    DROP INDEX conversations_queue;
    CREATE INDEX conversations_queue ON conversations(status, rank, id, snooze_reply, snooze_until);
    """,
    # 7: an undone reply-all comes back as a reply-all
    """
    ALTER TABLE outbox ADD COLUMN reply_all INTEGER NOT NULL DEFAULT 0;
    """,
    # 8: who is sending an item (another process leaves it alone while that one lives), and the
    #    newest message the agent had seen, for the collision check before SMTP; state 'held'
    """
    ALTER TABLE outbox ADD COLUMN owner TEXT;
    ALTER TABLE outbox ADD COLUMN seen_upto INTEGER;
    """,
    # 9: the desk's history (store.events): one row per change an agent made, shared through the
    #    server's History folder (sync.history_sync).
    #    event_id: globally unique; at: unix seconds, UTC; kind: status | assign | snooze |
    #    unsnooze | tag | reply | forward | note; anchor: a normalised Message-ID of the
    #    conversation's mail, resolved through thread_ids when read, so merges, splits and other
    #    stores agree; shared: 1 once on the server or read from it; outbox_id: a reply or forward
    #    not sent yet, not history yet: the triggers give it the time it was sent, or drop it with
    #    an outbox item that never went (undone, discarded).
    #    (Short SQL text: SQLite keeps it in the schema table, which every open reads.)
    """
    CREATE TABLE events(event_id TEXT PRIMARY KEY, at INTEGER NOT NULL, agent TEXT NOT NULL,
    kind TEXT NOT NULL, anchor TEXT NOT NULL, data_json TEXT NOT NULL, shared INTEGER NOT NULL,
    outbox_id INTEGER) WITHOUT ROWID;
    CREATE INDEX events_anchor ON events(anchor);
    CREATE INDEX events_at ON events(at);
    CREATE INDEX events_shared ON events(shared, outbox_id);
    CREATE TRIGGER events_sent AFTER UPDATE OF sent_at ON outbox WHEN NEW.sent_at NOT NULL BEGIN
    UPDATE events SET at=NEW.sent_at, outbox_id=NULL WHERE outbox_id=NEW.id; END;
    CREATE TRIGGER events_unsent AFTER DELETE ON outbox BEGIN DELETE FROM events WHERE outbox_id=OLD.id; END;
    """,
    # 10: per-conversation metrics cache (store.report_cache): conv_metrics holds one encoded
    #     desk.metrics.ConvMetrics per conversation; conv_dirty names the conversations whose mail,
    #     events, tags or assignee changed since (triggers: right for sync and other processes
    #     alike). seq only grows (AUTOINCREMENT): a row computed from data read before a change
    #     stays dirty, the change has a newer seq.
    """
    CREATE TABLE conv_metrics(conv_id INTEGER PRIMARY KEY, first_at REAL, last_at REAL, data BLOB NOT NULL);
    CREATE TABLE conv_dirty(seq INTEGER PRIMARY KEY AUTOINCREMENT, conv_id INTEGER NOT NULL UNIQUE);
    INSERT INTO conv_dirty(conv_id) SELECT id FROM conversations;
    CREATE TRIGGER cm_msg_in AFTER INSERT ON messages BEGIN
    INSERT OR REPLACE INTO conv_dirty(conv_id) VALUES (NEW.conv_id); END;
    CREATE TRIGGER cm_msg_up AFTER UPDATE ON messages WHEN OLD.conv_id IS NOT NEW.conv_id
    OR OLD.date IS NOT NEW.date OR OLD.is_agent IS NOT NEW.is_agent OR OLD.is_note IS NOT NEW.is_note
    OR OLD.auto_submitted IS NOT NEW.auto_submitted OR OLD.message_id IS NOT NEW.message_id BEGIN
    INSERT OR REPLACE INTO conv_dirty(conv_id) VALUES (OLD.conv_id);
    INSERT OR REPLACE INTO conv_dirty(conv_id) VALUES (NEW.conv_id); END;
    CREATE TRIGGER cm_msg_del AFTER DELETE ON messages BEGIN
    INSERT OR REPLACE INTO conv_dirty(conv_id) VALUES (OLD.conv_id); END;
    CREATE TRIGGER cm_ev_in AFTER INSERT ON events BEGIN
    INSERT OR REPLACE INTO conv_dirty(conv_id) SELECT conv_id FROM thread_ids WHERE msgid=NEW.anchor; END;
    CREATE TRIGGER cm_ev_up AFTER UPDATE ON events BEGIN
    INSERT OR REPLACE INTO conv_dirty(conv_id) SELECT conv_id FROM thread_ids WHERE msgid=NEW.anchor; END;
    CREATE TRIGGER cm_ev_del AFTER DELETE ON events BEGIN
    INSERT OR REPLACE INTO conv_dirty(conv_id) SELECT conv_id FROM thread_ids WHERE msgid=OLD.anchor; END;
    CREATE TRIGGER cm_conv_in AFTER INSERT ON conversations BEGIN
    INSERT OR REPLACE INTO conv_dirty(conv_id) VALUES (NEW.id); END;
    CREATE TRIGGER cm_conv_up AFTER UPDATE ON conversations WHEN OLD.assignee IS NOT NEW.assignee
    OR OLD.customer_key IS NOT NEW.customer_key BEGIN
    INSERT OR REPLACE INTO conv_dirty(conv_id) VALUES (NEW.id); END;
    CREATE TRIGGER cm_conv_del AFTER DELETE ON conversations BEGIN
    DELETE FROM conv_metrics WHERE conv_id=OLD.id; DELETE FROM conv_dirty WHERE conv_id=OLD.id; END;
    CREATE TRIGGER cm_tag_in AFTER INSERT ON tags BEGIN
    INSERT OR REPLACE INTO conv_dirty(conv_id) VALUES (NEW.conv_id); END;
    CREATE TRIGGER cm_tag_del AFTER DELETE ON tags BEGIN
    INSERT OR REPLACE INTO conv_dirty(conv_id) VALUES (OLD.conv_id); END;
    """,
    # 11: a conversation's mail in time order read from one covering index, not the wide rows
    #     (bodies): the report cache's and SLA's timelines (report_cache.sources), the first
    #     customer message (`report questions`), a rules batch's mail (mail_of_conversations).
    #     date and added_at are there as columns too: SQLite covers coalesce() only so.
    """
    CREATE INDEX messages_timeline ON messages(conv_id, coalesce(date, added_at), id, date, added_at, is_agent,
    is_note, auto_submitted, sender_key, message_id);
    """,
    # 12: the SLA plans (store.sla_cache): conv_sla holds one encoded desk.sla plan per conversation
    #     (its due moments, which depend on its mail and history and the config, not on the
    #     clock); sla_dirty names the conversations changed since, marked whenever conv_dirty is
    #     (its triggers: mail, events, tags, assignee), with conv_dirty's seq: a plan computed
    #     from data read before a change stays dirty. Its own marks: the reports clear theirs.
    """
    CREATE TABLE conv_sla(conv_id INTEGER PRIMARY KEY, data BLOB NOT NULL);
    CREATE TABLE sla_dirty(conv_id INTEGER PRIMARY KEY, seq INTEGER NOT NULL);
    INSERT INTO sla_dirty(conv_id, seq) SELECT id, 0 FROM conversations;
    CREATE TRIGGER sla_mark AFTER INSERT ON conv_dirty BEGIN
    INSERT OR REPLACE INTO sla_dirty(conv_id, seq) VALUES (NEW.conv_id, NEW.seq); END;
    CREATE TRIGGER sla_conv_del AFTER DELETE ON conversations BEGIN
    DELETE FROM conv_sla WHERE conv_id=OLD.id; DELETE FROM sla_dirty WHERE conv_id=OLD.id; END;
    """,
    # 13: events of one kind since a time (store.events.of_kind_since: the survey answers in
    #     every report, the automatic replies the rate limits count) without walking every event
    #     of the period (239k a year at 100k conversations: the warm report 1.1 -> 0.6 s)
    """
    CREATE INDEX events_kind_at ON events(kind, at);
    """,
    # 14: search finds word forms ("refunds" finds "refund", "charged" "charge"): the index is
    #     built again with the Porter stemmer over unicode61 (English word endings; other scripts
    #     pass through as before). Queries go through the same tokenizer. ~7 s CPU at 100k
    #     conversations (274k messages), once.
    """
    CREATE VIRTUAL TABLE messages_fts_stemmed USING fts5(
        subject, body, sender, recipients,
        tokenize = 'porter unicode61 remove_diacritics 2'
    );
    INSERT INTO messages_fts_stemmed(rowid, subject, body, sender, recipients)
        SELECT rowid, subject, body, sender, recipients FROM messages_fts;
    DROP TABLE messages_fts;
    ALTER TABLE messages_fts_stemmed RENAME TO messages_fts;
    """,
    # 15: a batch of new mail and the desk's summaries mark their conversations dirty in one
    #     statement (store.queries.marking_dirty_itself), not the triggers once per row: they
    #     were ~80% of `INSERT INTO messages` in a first sync (0.31 of 0.39 s CPU at 10k) and
    #     ~70% of the summaries' UPDATE. The triggers stay for every other writer: they skip
    #     only while conv_dirty_batch has a row, which the writer puts there and takes out again
    #     inside its own transaction, so no other connection ever sees one.
    #     messages_body_pending and messages_sender go: no query uses them (the bodies to fetch
    #     are found through imap_messages, a conversation's mail by sender through
    #     messages_timeline: EXPLAIN QUERY PLAN), and every message of a sync entered both.
    """
    DROP INDEX IF EXISTS messages_body_pending;
    DROP INDEX IF EXISTS messages_sender;
    CREATE TABLE IF NOT EXISTS conv_dirty_batch(writer INTEGER NOT NULL);
    DROP TRIGGER IF EXISTS cm_msg_in;
    CREATE TRIGGER cm_msg_in AFTER INSERT ON messages WHEN NOT EXISTS (SELECT 1 FROM conv_dirty_batch) BEGIN
    INSERT OR REPLACE INTO conv_dirty(conv_id) VALUES (NEW.conv_id); END;
    DROP TRIGGER IF EXISTS cm_conv_up;
    CREATE TRIGGER cm_conv_up AFTER UPDATE ON conversations WHEN (OLD.assignee IS NOT NEW.assignee
    OR OLD.customer_key IS NOT NEW.customer_key) AND NOT EXISTS (SELECT 1 FROM conv_dirty_batch) BEGIN
    INSERT OR REPLACE INTO conv_dirty(conv_id) VALUES (NEW.id); END;
    """,
    # 16: the Markdown each outbox item was sent as: its placeholders filled (escaped: a value is
    #     text, never Markdown), what its HTML part was made from. The conversation shows the
    #     agent's reply from it as the customer saw it (desk.render); the text/plain part has the
    #     values raw, so it cannot be read as Markdown again. outbox.body_markdown stays the text
    #     before filling (an undo puts it back in the draft). Gone with its outbox row.
    #     IF NOT EXISTS: the step may run again over itself (a store set back one version).
    """
    CREATE TABLE IF NOT EXISTS outbox_markdown(outbox_id INTEGER PRIMARY KEY REFERENCES outbox(id)
    ON DELETE CASCADE, markdown TEXT NOT NULL);
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)
