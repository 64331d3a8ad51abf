-- tools/desksink.sql - the PostgreSQL side of desksink: the raw events of
-- every deskd shard, the position per shard, and head office's read models.
--
-- The read models are folded here, in SQL, by one function (desk.apply)
-- that an AFTER INSERT trigger runs over each inserted batch in seq order,
-- inside the transaction that inserts the events and moves the position.
-- So the sink is only a transport (it knows no business rule), a batch and
-- what it changes commit or vanish together, and the whole of the read
-- models can be rebuilt from desk.events alone (desk.rebuild()), e.g.
-- after a change to this file.
--
-- Money is bigint fen; times are timestamptz (deskd's ms, exact); business
-- days are date in the desks' time zone (Asia/Shanghai, UTC+08:00, as in
-- config/deskd.conf [time]).
--
-- desksink runs this file at every start: every statement is idempotent.

SET client_min_messages = warning;

CREATE SCHEMA IF NOT EXISTS desk;

-- one row per deskd event; shard = the [shard.NAME] of the sink's config
CREATE TABLE IF NOT EXISTS desk.events (
    shard       text        NOT NULL,
    seq         bigint      NOT NULL,
    type        text        NOT NULL,
    stream      text        NOT NULL,
    version     bigint      NOT NULL,
    at          timestamptz NOT NULL,  -- recorded_at
    occurred_at timestamptz,
    actor       text        NOT NULL,
    desk        text,
    cmd_id      text,
    body        jsonb       NOT NULL,  -- the event's data, masked (R-GEN-02)
    hash        bytea       NOT NULL,  -- BLAKE2b-256 of the event as received
    PRIMARY KEY (shard, seq)
);
-- time ranges for BI; BRIN costs next to nothing per row (events come in
-- time order). Add a btree on (type, at) if ad-hoc queries need it: it
-- costs the sink ~13% of its throughput (docs/SCALING.md).
CREATE INDEX IF NOT EXISTS events_at ON desk.events USING brin (at);

-- the last seq of each shard in desk.events, moved in the same
-- transaction as the rows
CREATE TABLE IF NOT EXISTS desk.positions (
    shard   text        PRIMARY KEY,
    seq     bigint      NOT NULL CHECK (seq >= 0),
    updated timestamptz NOT NULL DEFAULT now()
);

CREATE OR REPLACE FUNCTION desk.ms(v bigint) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE
    RETURN timestamptz 'epoch' + v * interval '1 millisecond';

-- a time in an event's data: ms since the epoch, or ISO 8601 text
CREATE OR REPLACE FUNCTION desk.ts(v jsonb) RETURNS timestamptz
    LANGUAGE sql STABLE
    RETURN CASE jsonb_typeof(v)
           WHEN 'number' THEN desk.ms(nullif(v::text::bigint, 0))
           WHEN 'string' THEN (v #>> '{}')::timestamptz END;

CREATE OR REPLACE FUNCTION desk.local_day(t timestamptz) RETURNS date
    LANGUAGE sql STABLE
    RETURN (t AT TIME ZONE 'Asia/Shanghai')::date;

-- ---- fees (R-FEE-02..08) ----
CREATE TABLE IF NOT EXISTS desk.bills (
    shard   text   NOT NULL,
    bill    text   NOT NULL,
    unit    text   NOT NULL,
    payer   text   NOT NULL,
    item    text,
    period  text,
    amount  bigint NOT NULL,
    settled bigint NOT NULL DEFAULT 0,
    due     date   NOT NULL,
    created timestamptz NOT NULL,
    PRIMARY KEY (shard, bill)
);
CREATE INDEX IF NOT EXISTS bills_open ON desk.bills (shard, unit)
    WHERE settled < amount;

CREATE TABLE IF NOT EXISTS desk.fee_chase (
    shard           text NOT NULL,
    unit            text NOT NULL,
    extension_until date,
    notice          text NOT NULL DEFAULT '',
    PRIMARY KEY (shard, unit)
);

-- ---- complaints (R-CMP-04..09) ----
CREATE TABLE IF NOT EXISTS desk.complaints (
    shard        text        NOT NULL,
    complaint    text        NOT NULL,
    state        text        NOT NULL,
    channel      text        NOT NULL,
    unit         text        NOT NULL DEFAULT '',
    receiver     text        NOT NULL DEFAULT '',
    handler      text        NOT NULL DEFAULT '',
    category     int         NOT NULL DEFAULT 0,
    received     timestamptz NOT NULL,
    reply_due    timestamptz,
    first_reply  timestamptz,
    level        int         NOT NULL DEFAULT 0,
    escalations  int         NOT NULL DEFAULT 0,
    major        boolean     NOT NULL DEFAULT false,
    hot          boolean     NOT NULL DEFAULT false,
    claim_fen    bigint      NOT NULL DEFAULT 0,
    reopen_count int         NOT NULL DEFAULT 0,
    closed       timestamptz,
    PRIMARY KEY (shard, complaint)
);

-- ---- access cards (R-CARD-01..05) ----
CREATE TABLE IF NOT EXISTS desk.cards (
    shard       text NOT NULL,
    card        text NOT NULL,
    kind        text NOT NULL,
    unit        text NOT NULL,
    holder      text NOT NULL,
    holder_type text NOT NULL,
    status      text NOT NULL,
    valid_from  date NOT NULL,
    until       date NOT NULL,
    fees        bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (shard, card)
);
CREATE INDEX IF NOT EXISTS cards_until ON desk.cards (until)
    WHERE status = 'active';

-- ---- renovation deposits (R-REN-03, R-REN-05) ----
CREATE TABLE IF NOT EXISTS desk.deposits (
    shard          text   NOT NULL,
    renovation     text   NOT NULL,
    unit           text   NOT NULL,
    owner_fen      bigint NOT NULL DEFAULT 0,
    contractor_fen bigint NOT NULL DEFAULT 0,
    taken_on       date,
    refunded_fen   bigint NOT NULL DEFAULT 0,
    refunded_on    date,
    PRIMARY KEY (shard, renovation)
);

-- The fold, one event into the read models, for the events that change
-- existing rows (desk.apply_batch inserts new bills and complaints).
-- Mirrors deskd's projections (projections/fees.c, complaints.c cmp_fold,
-- cards.c, renovation.c) for what head office reads.
CREATE OR REPLACE FUNCTION desk.apply(e desk.events) RETURNS void
LANGUAGE plpgsql AS $fold$
DECLARE
    b   jsonb := e.body;
    a   jsonb;
    tier int;
    rule text;
BEGIN
    CASE e.type
    WHEN 'fee.paid', 'fee.payment_voided' THEN
        FOR a IN SELECT value FROM jsonb_array_elements(
                     coalesce(b->'alloc', '[]'::jsonb)) LOOP
            UPDATE desk.bills
               SET settled = settled + (a->>1)::bigint *
                             CASE e.type WHEN 'fee.paid' THEN 1 ELSE -1 END
             WHERE shard = e.shard AND bill = a->>0;
        END LOOP;
    WHEN 'fee.prepayment_applied', 'fee.waived' THEN
        UPDATE desk.bills SET settled = settled + (b->>'amount')::bigint
         WHERE shard = e.shard AND bill = b->>'bill';
    WHEN 'fee.extension_granted' THEN
        INSERT INTO desk.fee_chase (shard, unit, extension_until)
        VALUES (e.shard, b->>'unit', (b->>'until')::date)
        ON CONFLICT (shard, unit)
        DO UPDATE SET extension_until = EXCLUDED.extension_until;
    WHEN 'fee.notice_delivered' THEN
        INSERT INTO desk.fee_chase (shard, unit, notice)
        VALUES (e.shard, b->>'unit', b->>'stage')
        ON CONFLICT (shard, unit) DO UPDATE SET notice = EXCLUDED.notice;

    WHEN 'complaint.classified' THEN
        UPDATE desk.complaints SET category = (b->>'category')::int
         WHERE shard = e.shard AND complaint = b->>'complaint';
    WHEN 'complaint.dispatched' THEN
        UPDATE desk.complaints
           SET handler = coalesce(b->>'handler', ''),
               state = CASE state WHEN 'received' THEN 'dispatched'
                       ELSE state END
         WHERE shard = e.shard AND complaint = b->>'complaint';
    WHEN 'complaint.replied' THEN
        UPDATE desk.complaints
           SET first_reply = coalesce(first_reply, e.at),
               state = CASE WHEN state IN ('received', 'dispatched')
                       THEN 'replied' ELSE state END
         WHERE shard = e.shard AND complaint = b->>'complaint';
    WHEN 'complaint.handled' THEN
        UPDATE desk.complaints SET state = 'handled'
         WHERE shard = e.shard AND complaint = b->>'complaint';
    WHEN 'complaint.reopened' THEN
        UPDATE desk.complaints
           SET reopen_count = coalesce((b->>'count')::int, reopen_count + 1),
               state = CASE WHEN first_reply IS NULL THEN 'received'
                       ELSE 'replied' END,
               closed = NULL
         WHERE shard = e.shard AND complaint = b->>'complaint';
    WHEN 'complaint.closed' THEN
        UPDATE desk.complaints SET state = 'closed', closed = e.at
         WHERE shard = e.shard AND complaint = b->>'complaint';
    WHEN 'complaint.claimed' THEN
        UPDATE desk.complaints SET claim_fen = (b->>'claim_fen')::bigint
         WHERE shard = e.shard AND complaint = b->>'complaint';
    WHEN 'complaint.escalated' THEN
        rule := b->>'rule';
        -- cmp_rule_tier: open_15d 3, open_10d 2, major and hot 0, others 1
        tier := CASE rule WHEN 'open_15d' THEN 3 WHEN 'open_10d' THEN 2
                WHEN 'major' THEN 0 WHEN 'hot' THEN 0 ELSE 1 END;
        UPDATE desk.complaints
           SET escalations = escalations + 1,
               level = CASE WHEN rule IS NOT NULL THEN greatest(level, tier)
                       ELSE level END,
               major = major OR rule = 'major',
               hot = hot OR rule = 'hot'
         WHERE shard = e.shard AND complaint = b->>'complaint';

    WHEN 'card.issued' THEN
        INSERT INTO desk.cards (shard, card, kind, unit, holder, holder_type,
                                status, valid_from, until, fees)
        VALUES (e.shard, b->>'card', b->>'kind', b->>'unit', b->>'holder',
                b->>'holder_type', 'active', (b->>'from')::date,
                (b->>'until')::date, coalesce((b->>'fee')::bigint, 0))
        ON CONFLICT (shard, card) DO UPDATE
           SET kind = EXCLUDED.kind, unit = EXCLUDED.unit,
               holder = EXCLUDED.holder, holder_type = EXCLUDED.holder_type,
               status = 'active', valid_from = EXCLUDED.valid_from,
               until = EXCLUDED.until,
               fees = desk.cards.fees + EXCLUDED.fees;
    WHEN 'card.renewed' THEN
        UPDATE desk.cards
           SET valid_from = (b->>'from')::date, until = (b->>'until')::date,
               fees = fees + coalesce((b->>'fee')::bigint, 0)
         WHERE shard = e.shard AND card = b->>'card';
    WHEN 'card.reported_lost', 'card.reported_damaged', 'card.returned',
         'card.formatted' THEN
        UPDATE desk.cards
           SET status = CASE e.type
                   WHEN 'card.reported_lost' THEN 'lost'
                   WHEN 'card.reported_damaged' THEN 'damaged'
                   WHEN 'card.returned' THEN 'returned'
                   ELSE 'formatted' END
         WHERE shard = e.shard AND card = b->>'card';

    WHEN 'renovation.deposit_taken' THEN
        INSERT INTO desk.deposits (shard, renovation, unit, owner_fen,
                                   contractor_fen, taken_on)
        VALUES (e.shard, b->>'renovation', b->>'unit',
                CASE WHEN b->>'party' = 'contractor' THEN 0
                     ELSE (b->>'amount')::bigint END,
                CASE WHEN b->>'party' = 'contractor'
                     THEN (b->>'amount')::bigint ELSE 0 END,
                (b->>'date')::date)
        ON CONFLICT (shard, renovation) DO UPDATE
           SET owner_fen = desk.deposits.owner_fen + EXCLUDED.owner_fen,
               contractor_fen = desk.deposits.contractor_fen +
                                EXCLUDED.contractor_fen;
    WHEN 'renovation.deposit_refunded' THEN
        UPDATE desk.deposits
           SET refunded_fen = refunded_fen + (b->>'amount')::bigint,
               refunded_on = (b->>'date')::date
         WHERE shard = e.shard AND renovation = b->>'renovation';
    ELSE
        NULL; -- not a head-office read model's business
    END CASE;
END
$fold$;

-- The fold of a batch (statement level: one call per COPY or INSERT, the
-- batch's rows in new_events). First, set-based, the events that only add
-- rows (a bill, a complaint: nothing earlier in the batch can touch a row
-- that does not exist yet, so adding them first changes nothing but the
-- speed); then every other event of interest one by one, in seq order,
-- through desk.apply. Events of other types cost nothing here.
CREATE OR REPLACE FUNCTION desk.apply_batch() RETURNS trigger
LANGUAGE plpgsql AS $batch$
DECLARE
    r desk.events;
BEGIN
    INSERT INTO desk.bills (shard, bill, unit, payer, item, period, amount,
                            due, created)
    SELECT e.shard, e.body->>'bill', e.body->>'unit',
           coalesce(e.body->>'payer', ''), e.body->>'item',
           e.body->>'period', (e.body->>'amount')::bigint,
           (e.body->>'due')::date, e.at
      FROM new_events e
     WHERE e.type IN ('fee.billed', 'fee.late_fee_assessed');
    INSERT INTO desk.complaints (shard, complaint, state, channel, unit,
                                 receiver, received, reply_due, claim_fen)
    SELECT e.shard, e.body->>'complaint', 'received', e.body->>'channel',
           coalesce(e.body->>'unit', ''), coalesce(e.body->>'receiver', ''),
           desk.ts(e.body->'received_at'),
           desk.ts(e.body#>'{deadlines,reply}'),
           coalesce((e.body->>'claim_fen')::bigint, 0)
      FROM new_events e
     WHERE e.type = 'complaint.received';
    FOR r IN SELECT * FROM new_events e
              WHERE e.type LIKE ANY (ARRAY['fee.%', 'complaint.%', 'card.%',
                                           'renovation.deposit%'])
                AND e.type NOT IN ('fee.billed', 'fee.late_fee_assessed',
                                   'complaint.received')
              ORDER BY e.shard, e.seq LOOP
        PERFORM desk.apply(r);
    END LOOP;
    RETURN NULL;
END
$batch$;

CREATE OR REPLACE TRIGGER events_apply AFTER INSERT ON desk.events
    REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION desk.apply_batch();

-- Empties the read models and folds every stored event again, through the
-- same trigger: the events are inserted anew, in one statement, in order.
CREATE OR REPLACE FUNCTION desk.rebuild() RETURNS bigint
LANGUAGE plpgsql AS $rebuild$
DECLARE
    n bigint;
BEGIN
    TRUNCATE desk.bills, desk.fee_chase, desk.complaints, desk.cards,
             desk.deposits;
    CREATE TEMP TABLE rebuild_events ON COMMIT DROP AS
        SELECT * FROM desk.events;
    TRUNCATE desk.events;
    INSERT INTO desk.events SELECT * FROM rebuild_events ORDER BY shard, seq;
    GET DIAGNOSTICS n = ROW_COUNT;
    DROP TABLE rebuild_events;
    RETURN n;
END
$rebuild$;

-- ---- what head office reads ----

-- Overdue fees per (unit, payer) as of a day, with aging bucket and chase
-- stage: deskd's query.overdue (handlers/fee_queries.c), all shards.
CREATE OR REPLACE FUNCTION desk.overdue(as_of date)
RETURNS TABLE (shard text, unit text, payer text, amount bigint,
               oldest_due date, days_overdue int, bucket text, stage text,
               notice text, extension_until date)
LANGUAGE sql STABLE AS $overdue$
    SELECT o.shard, o.unit, o.payer, o.amount, o.oldest_due,
           as_of - o.oldest_due,
           CASE WHEN as_of - o.oldest_due <= 30 THEN '1-30'
                WHEN as_of - o.oldest_due <= 60 THEN '31-60'
                WHEN as_of - o.oldest_due <= 90 THEN '61-90'
                ELSE '>90' END,
           CASE WHEN c.extension_until >= as_of THEN 'extension'
                WHEN as_of - o.oldest_due <= 30 THEN 'reminder'
                WHEN as_of - o.oldest_due <= 60 THEN 'first_notice'
                WHEN as_of - o.oldest_due <= 90 THEN 'second_notice'
                ELSE 'legal' END,
           coalesce(c.notice, ''), c.extension_until
      FROM (SELECT b.shard, b.unit, b.payer, sum(b.amount - b.settled)::bigint
                   AS amount, min(b.due) AS oldest_due
              FROM desk.bills b
             WHERE b.settled < b.amount AND b.due < as_of
             GROUP BY b.shard, b.unit, b.payer) o
      LEFT JOIN desk.fee_chase c ON c.shard = o.shard AND c.unit = o.unit
$overdue$;

CREATE OR REPLACE VIEW desk.overdue_now AS
    SELECT * FROM desk.overdue(desk.local_day(now()));

-- totals by estate (the part of a unit key before '/') and aging bucket
CREATE OR REPLACE VIEW desk.overdue_aging AS
    SELECT shard, split_part(unit, '/', 1) AS estate, bucket,
           count(*) AS units, sum(amount)::bigint AS amount
      FROM desk.overdue_now GROUP BY 1, 2, 3;

-- Open complaints with their reply deadline and escalation level, as at a
-- moment: deskd's query.complaints_open.
CREATE OR REPLACE FUNCTION desk.complaints_open(at timestamptz)
RETURNS TABLE (shard text, complaint text, state text, channel text,
               unit text, handler text, category int, received timestamptz,
               age_days int, reply_due timestamptz, reply_overdue boolean,
               level int, major boolean, hot boolean, reopen_count int)
LANGUAGE sql STABLE AS $open$
    SELECT c.shard, c.complaint, c.state, c.channel, c.unit, c.handler,
           c.category, c.received,
           (extract(epoch FROM at - c.received)::bigint / 86400)::int,
           c.reply_due,
           c.first_reply IS NULL AND c.reply_due IS NOT NULL AND
               c.reply_due <= at AND c.state IN ('received', 'dispatched',
                                                  'replied'),
           c.level, c.major, c.hot, c.reopen_count
      FROM desk.complaints c WHERE c.state <> 'closed'
$open$;

CREATE OR REPLACE VIEW desk.complaints_open_now AS
    SELECT * FROM desk.complaints_open(now());

-- Complaint KPIs by month of receipt (desk time): how many came in, were
-- replied to in time, escalated, reopened, closed.
CREATE OR REPLACE VIEW desk.complaint_kpis AS
    SELECT shard,
           to_char(received AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM') AS month,
           count(*) AS received,
           count(*) FILTER (WHERE first_reply IS NOT NULL AND
                                  (reply_due IS NULL OR
                                   first_reply <= reply_due))
               AS replied_in_time,
           count(*) FILTER (WHERE escalations > 0) AS escalated,
           count(*) FILTER (WHERE level >= 2) AS escalated_to_manager,
           count(*) FILTER (WHERE major) AS major,
           count(*) FILTER (WHERE reopen_count > 0) AS reopened,
           count(*) FILTER (WHERE state = 'closed') AS closed,
           count(*) FILTER (WHERE state <> 'closed') AS open,
           sum(claim_fen)::bigint AS claimed_fen
      FROM desk.complaints GROUP BY 1, 2;

-- Active cards expiring within `days` days of as_of (R-CARD-05): deskd's
-- query.card_expiry.
CREATE OR REPLACE FUNCTION desk.card_expiry(as_of date, days int)
RETURNS TABLE (shard text, card text, kind text, unit text, holder text,
               holder_type text, until date, days_left int)
LANGUAGE sql STABLE AS $exp$
    SELECT c.shard, c.card, c.kind, c.unit, c.holder, c.holder_type,
           c.until, c.until - as_of
      FROM desk.cards c
     WHERE c.status = 'active' AND c.until BETWEEN as_of AND as_of + days
$exp$;

CREATE OR REPLACE VIEW desk.card_expiry_30d AS
    SELECT * FROM desk.card_expiry(desk.local_day(now()), 30);

-- Renovation deposits the company holds now (R-REN-03/05).
CREATE OR REPLACE VIEW desk.deposits_held AS
    SELECT shard, renovation, unit, owner_fen, contractor_fen,
           owner_fen + contractor_fen - refunded_fen AS held_fen, taken_on
      FROM desk.deposits
     WHERE owner_fen + contractor_fen - refunded_fen > 0;
