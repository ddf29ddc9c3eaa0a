-- materialized: table
-- One row per professional user. job_title and company come from the profile with the highest profile_id;
-- avg_reply_hours averages (first_reply_at - created_at) over the replied conversations, rounded half up to
-- 1 decimal (integer arithmetic, as in monthly_funnel), NULL when none was replied.
WITH received AS (
    SELECT professional_id,
           COUNT(*) AS conversations_received,
           SUM(CASE WHEN first_reply_at IS NOT NULL THEN 1 ELSE 0 END) AS conversations_replied,
           CAST(SUM(reply_seconds) AS BIGINT) AS reply_seconds,
           MAX(created_at) AS last_conversation_at
    FROM {{ ref('int_conversations_enriched') }}
    GROUP BY professional_id
),
completed AS (
    SELECT professional_id, COUNT(*) AS appointments_completed
    FROM {{ ref('int_appointments_enriched') }} WHERE appointment_status = 'completed'
    GROUP BY professional_id
)
SELECT u.user_id AS professional_id,
       p.job_title,
       p.company,
       COALESCE(r.conversations_received, 0) AS conversations_received,
       COALESCE(r.conversations_replied, 0) AS conversations_replied,
       CASE WHEN COALESCE(r.conversations_replied, 0) = 0 THEN NULL
            ELSE CAST((r.reply_seconds * 20 + r.conversations_replied * 3600) / (2 * r.conversations_replied * 3600) AS DOUBLE PRECISION) / 10
       END AS avg_reply_hours,
       COALESCE(a.appointments_completed, 0) AS appointments_completed,
       r.last_conversation_at
FROM {{ ref('stg_users') }} u
LEFT JOIN {{ ref('int_professional_profiles') }} p ON p.professional_id = u.user_id
LEFT JOIN received r ON r.professional_id = u.user_id
LEFT JOIN completed a ON a.professional_id = u.user_id
WHERE u.user_role = 'professional'
