-- materialized: incremental
-- partition_by: ds
-- The run of week W writes the cohort of week W-4: the users created in that week (from the week's users
-- snapshot) and how many of them had any event in week W, the fourth week after. Rate 4 decimals, NULL for
-- an empty cohort. One row per run, partitioned by the run's week (ds), since cohort_week lies before it.
WITH cohort AS (
    SELECT user_id FROM {{ ref('stg_saas_users') }}
    WHERE created_at >= date({{ ds }}, '-28 days') AND created_at < date({{ ds }}, '-21 days')
), active AS (
    SELECT DISTINCT user_id FROM {{ ref('stg_saas_events') }}
    WHERE occurred_at >= {{ data_interval_start }} AND occurred_at < {{ data_interval_end }}
), counts AS (
    SELECT COUNT(*) AS cohort_size, COUNT(a.user_id) AS retained_w4
    FROM cohort c LEFT JOIN active a ON a.user_id = c.user_id
)
SELECT {{ ds }} AS ds,
       date({{ ds }}, '-28 days') AS cohort_week,
       cohort_size,
       retained_w4,
       CAST(CASE WHEN cohort_size > 0 THEN ROUND(1.0 * retained_w4 / cohort_size, 4) END AS REAL) AS retention_w4_rate  -- REAL even when NULL
FROM counts
