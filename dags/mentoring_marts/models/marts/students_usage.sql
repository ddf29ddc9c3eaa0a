-- materialized: table
-- One row per student: their school, conversations started, distinct professionals reached, appointments
-- completed, and the first conversation's start (NULL when none).
WITH started AS (
    SELECT student_id, COUNT(*) AS conversations_started, COUNT(DISTINCT professional_id) AS distinct_professionals,
           MIN(created_at) AS first_conversation_at
    FROM {{ ref('int_conversations_enriched') }}
    GROUP BY student_id
),
completed AS (
    SELECT student_id, COUNT(*) AS appointments_completed
    FROM {{ ref('int_appointments_enriched') }} WHERE appointment_status = 'completed'
    GROUP BY student_id
)
SELECT u.user_id AS student_id,
       sc.school_name,
       COALESCE(s.conversations_started, 0) AS conversations_started,
       COALESCE(s.distinct_professionals, 0) AS distinct_professionals,
       COALESCE(a.appointments_completed, 0) AS appointments_completed,
       s.first_conversation_at
FROM {{ ref('stg_users') }} u
LEFT JOIN {{ ref('stg_schools') }} sc ON sc.school_id = u.school_id
LEFT JOIN started s ON s.student_id = u.user_id
LEFT JOIN completed a ON a.student_id = u.user_id
WHERE u.user_role = 'student'
