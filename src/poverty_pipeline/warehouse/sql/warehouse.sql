-- Schemas and the audit tables. Raw tables are created from the contract (see warehouse.py).
create schema if not exists raw;
create schema if not exists audit;

-- One row per landed file; the content hash is its identity.
create table if not exists audit.submissions (
    submission_id    text primary key,           -- sha256 of the file's bytes
    contract         text not null,              -- commune_household_review, ...
    path             text not null,              -- where it was found in the landing location
    submitter_code   text,                       -- commune or agency code (null when unreadable)
    period           text,                       -- review year, or year-month of a monthly review;
                                                 -- an agency's YYYY, YYYY-MM or YYYY-Qn
    review_year      integer,
    review_type      text,                       -- dinh_ky | thuong_xuyen
    review_month     integer,
    received_at      timestamptz not null,       -- when the pipeline took the file in
    status           text not null check (status in
                         ('accepted', 'accepted_with_warnings', 'rejected', 'superseded')),
    superseded_by    text references audit.submissions (submission_id),
    household_rows   integer not null default 0,
    error_count      integer not null default 0,
    warning_count    integer not null default 0,
    ingest_run_id    text
);
create index if not exists submissions_review_idx
    on audit.submissions (contract, submitter_code, review_year, review_type, review_month);
-- Added with the agency contract (nullable, so older warehouses gain them in place).
alter table audit.submissions
    add column if not exists row_count integer;  -- rows of the contract's main sheet loaded
-- Where the feedback report to the submitter was written (<landing>/_feedback/…html).
alter table audit.submissions
    add column if not exists feedback_url text;
create index if not exists submissions_period_idx
    on audit.submissions (contract, submitter_code, period);
-- The date the file says it was prepared (ngay_lap): orders the versions of one review, arrival
-- breaking a tie (poverty_pipeline.ingest.load).
alter table audit.submissions
    add column if not exists reported_on date;

-- One row per problem found in a submission.
create table if not exists audit.submission_problems (
    problem_id       bigserial primary key,
    submission_id    text not null references audit.submissions (submission_id),
    severity         text not null check (severity in ('error', 'warning')),
    sheet            text,
    row_number       integer,                    -- the spreadsheet's row (header is row 1)
    column_name      text,
    value            text,
    rule             text not null,
    message_vi       text not null,
    message_en       text not null
);
create index if not exists submission_problems_submission_idx
    on audit.submission_problems (submission_id);

-- Whom to contact about a file: the preparer (and phone) it gives, kept for every recorded file,
-- rejected ones too, for the follow-up lists. Personal data: in raw, restricted.
create table if not exists raw.submission_contacts (
    submission_id    text primary key references audit.submissions (submission_id),
    contact_name     text,
    contact_phone    text
);
