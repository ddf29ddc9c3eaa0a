-- The week's accounts snapshot. silver.clean typed it (ids integer, timestamps UTC text), lowercased the plan
-- and rejected duplicates and broken rows (dags/saas_weekly/rules.yaml); a view keeps the run's ds only.
-- `+ds` keeps SQLite off the ds index, whose default estimate (10 rows) makes it loop over the other side of
-- a join (SAAS-NEEDS 4.: 3.6 s instead of 0.08 s on 3,000 events); scanning, it builds an automatic index.
SELECT account_id, account_name, plan, created_at
FROM {{ source('silver', 'accounts') }}
WHERE +ds = {{ ds }}
