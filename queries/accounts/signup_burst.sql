-- id: abcca1eb-3d09-4493-8ac5-f00f25dea45f
-- name: signup_burst
-- title: Sign-up burst and account churn
-- status: experimental
-- level: high
-- description: Detects accounts created in a burst (many accounts on one sign-up path and email
--   domain within a short window, far above that key's usual rate), scored up when the burst's
--   accounts are short-lived and replaced, as a proxy network does with banned accounts, and down
--   for a member that shares no payment fingerprint with the rest (a lone sign-up in the window).
-- entity: account
-- tags: atlas.aml.t0021, atlas.aml.t0008, atlas.aml.t0024.002
-- references: Anthropic, "Detecting and preventing distillation attacks", Feb 2026 (hydra networks replacing banned accounts with fresh ones)
-- references: Cao et al., "Uncovering Large Groups of Active Malicious Accounts in Online Social Networks" (SynchroTrap), CCS 2014
-- falsepositives: Education cohorts: a class signing up from one university domain within days (long-lived, so scored at most 0.5)
-- falsepositives: An enterprise onboarding a team
-- portable: true
-- requires: accounts
-- param: window_hours int 2 Width of the sign-up window
-- param: min_accounts int 8 Accounts created in one window on one key to count as a burst
-- param: min_ratio float 5.0 The window's count must be at least this multiple of the key's average per window around it
-- param: baseline_windows int 84 Windows on each side (84 two-hour windows: a week) that give the key's usual rate
-- param: full_accounts int 20 Burst size at which the size part of the score reaches 1
-- param: short_hours int 48 Accounts active for less than this many hours count as short-lived
-- param: gone_hours int 24 ...and whose last request is at least this long before the case ends
-- param: lone_discount float 0.5 Share of the score taken off a member that shares its payment fingerprint with no other member of its burst
with keyed as (
    -- a burst on one sign-up path, or on one path and email domain (rarer, so a smaller burst shows)
    select account_id, created_at, payment_fingerprint,
           'path:' || coalesce(signup_path, '?') as burst_key,
           floor(epoch(created_at) / ($window_hours * 3600)) as bucket
    from accounts
    where created_at is not null
    union all
    select account_id, created_at, payment_fingerprint,
           'path+domain:' || coalesce(signup_path, '?') || '|' || coalesce(email_domain, '?')
               as burst_key,
           floor(epoch(created_at) / ($window_hours * 3600)) as bucket
    from accounts
    where created_at is not null
),
windows as (
    select burst_key, bucket, count(*) as accounts, min(created_at) as window_start
    from keyed
    group by burst_key, bucket
),
candidates as (
    select * from windows where accounts >= $min_accounts
),
bursts as (
    -- the key's usual rate: accounts per window in the windows around, this one excluded
    select c.burst_key, c.bucket, c.accounts, c.window_start,
           coalesce(sum(w.accounts), 0) * 1.0 / (2 * $baseline_windows) as per_window
    from candidates as c
    left join windows as w
        on w.burst_key = c.burst_key and w.bucket <> c.bucket
       and abs(w.bucket - c.bucket) <= $baseline_windows
    group by c.burst_key, c.bucket, c.accounts, c.window_start
    having c.accounts >= $min_ratio * coalesce(sum(w.accounts), 0) * 1.0 / (2 * $baseline_windows)
),
activity as (
    select account_id, min(ts) as first_seen, max(ts) as last_seen, count(*) as requests
    from requests
    group by account_id
),
case_end as (
    select max(ts) as ended from requests
),
members as (
    select k.account_id, b.burst_key, b.bucket, b.accounts, b.window_start, b.per_window,
           a.first_seen, a.last_seen, a.requests,
           case when a.last_seen is not null
                 and epoch(a.last_seen) - epoch(a.first_seen) < $short_hours * 3600
                 and epoch(e.ended) - epoch(a.last_seen) >= $gone_hours * 3600
                then 1 else 0 end as short_lived,
           -- an account paying with the card of another account of its burst is one of a set;
           -- a lone sign-up that merely fell in the window is not
           case when k.payment_fingerprint is not null
                 and count(*) over (partition by b.burst_key, b.bucket, k.payment_fingerprint) > 1
                then 1 else 0 end as card_shared
    from keyed as k
    join bursts as b on b.burst_key = k.burst_key and b.bucket = k.bucket
    left join activity as a on a.account_id = k.account_id
    cross join case_end as e
),
churn as (
    select burst_key, bucket, avg(short_lived) as churn_share from members group by burst_key, bucket
),
scored as (
    select m.*, c.churn_share,
           least(1.0, m.accounts * 1.0 / $full_accounts) * (0.5 + 0.5 * c.churn_share)
               * (1 - $lone_discount * (1 - m.card_shared)) as score
    from members as m
    join churn as c on c.burst_key = m.burst_key and c.bucket = m.bucket
),
best as (
    select account_id, max(score) as score from scored group by account_id
),
final as (
    select 'account' as entity_type, m.account_id as entity_id, m.score,
           {'burst_key': m.burst_key, 'window_start': m.window_start, 'burst_accounts': m.accounts,
            'key_average_per_window': round(m.per_window, 2),
            'churn_share': round(m.churn_share, 3), 'short_lived': m.short_lived = 1,
            'card_shared_in_burst': m.card_shared = 1,
            'requests': m.requests, 'window_hours': $window_hours} as evidence,
           m.first_seen, m.last_seen
    from scored as m
    join best as b on b.account_id = m.account_id and b.score = m.score
    qualify row_number() over (partition by m.account_id order by m.burst_key) = 1
)
select entity_type, entity_id, score, evidence, first_seen, last_seen from final
