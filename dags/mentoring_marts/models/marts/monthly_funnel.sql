-- materialized: table
-- One row per month (YYYY-MM, UTC) from the first signup's month to the last activity's (a signup, a
-- conversation started or answered, an appointment), months without activity included.
-- Rates are rounded half up to 4 decimals with integer arithmetic, so SQLite and PostgreSQL agree to the digit;
-- 0 when the month started no conversation.
WITH RECURSIVE
activity AS (
    SELECT signed_up_on AS happened_at FROM {{ ref('stg_users') }}
    UNION ALL SELECT created_at FROM {{ ref('stg_conversations') }}
    UNION ALL SELECT first_reply_at FROM {{ ref('stg_conversations') }} WHERE first_reply_at IS NOT NULL
    UNION ALL SELECT scheduled_at FROM {{ ref('stg_appointments') }}
),
bounds AS (
    SELECT (SELECT MIN(CAST(SUBSTR(signed_up_on, 1, 4) AS INTEGER) * 12 + CAST(SUBSTR(signed_up_on, 6, 2) AS INTEGER) - 1)
            FROM {{ ref('stg_users') }}) AS first_month,
           MAX(CAST(SUBSTR(happened_at, 1, 4) AS INTEGER) * 12 + CAST(SUBSTR(happened_at, 6, 2) AS INTEGER) - 1) AS last_month
    FROM activity
),
months (month_index) AS (
    SELECT first_month FROM bounds WHERE first_month IS NOT NULL
    UNION ALL
    SELECT m.month_index + 1 FROM months m, bounds b WHERE m.month_index < b.last_month
),
calendar AS (
    SELECT CAST(month_index / 12 AS TEXT) || '-' || CASE WHEN month_index % 12 < 9 THEN '0' ELSE '' END
           || CAST(month_index % 12 + 1 AS TEXT) AS month
    FROM months
),
signups AS (
    SELECT SUBSTR(signed_up_on, 1, 7) AS month,
           SUM(CASE WHEN user_role = 'student' THEN 1 ELSE 0 END) AS new_students,
           SUM(CASE WHEN user_role = 'professional' THEN 1 ELSE 0 END) AS new_professionals
    FROM {{ ref('stg_users') }} GROUP BY SUBSTR(signed_up_on, 1, 7)
),
started AS (
    SELECT SUBSTR(created_at, 1, 7) AS month, COUNT(*) AS conversations_started,
           SUM(CASE WHEN first_reply_at IS NOT NULL THEN 1 ELSE 0 END) AS conversations_replied
    FROM {{ ref('stg_conversations') }} GROUP BY SUBSTR(created_at, 1, 7)
),
completed AS (
    SELECT SUBSTR(scheduled_at, 1, 7) AS month, COUNT(*) AS appointments_completed
    FROM {{ ref('stg_appointments') }} WHERE appointment_status = 'completed' GROUP BY SUBSTR(scheduled_at, 1, 7)
),
funnel AS (
    SELECT c.month,
           COALESCE(s.new_students, 0) AS new_students,
           COALESCE(s.new_professionals, 0) AS new_professionals,
           COALESCE(t.conversations_started, 0) AS conversations_started,
           COALESCE(t.conversations_replied, 0) AS conversations_replied,
           COALESCE(a.appointments_completed, 0) AS appointments_completed
    FROM calendar c
    LEFT JOIN signups s ON s.month = c.month
    LEFT JOIN started t ON t.month = c.month
    LEFT JOIN completed a ON a.month = c.month
)
SELECT month, new_students, new_professionals, conversations_started, conversations_replied, appointments_completed,
       CASE WHEN conversations_started = 0 THEN 0
            ELSE CAST((conversations_replied * 20000 + conversations_started) / (2 * conversations_started) AS DOUBLE PRECISION) / 10000
       END AS reply_rate,
       CASE WHEN conversations_started = 0 THEN 0
            ELSE CAST((appointments_completed * 20000 + conversations_started) / (2 * conversations_started) AS DOUBLE PRECISION) / 10000
       END AS completion_rate
FROM funnel
