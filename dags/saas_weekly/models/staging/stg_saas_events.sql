-- The week's events (silver: duplicates, unknown users and unknown types rejected; event_type trimmed and
-- lowercased; occurred_at UTC). Events dated outside the week are kept here; the marts count an event only in
-- the week it falls in. `+ds`: see stg_saas_accounts.
SELECT event_id, user_id, event_type, occurred_at, task_id
FROM {{ source('silver', 'events') }}
WHERE +ds = {{ ds }}
