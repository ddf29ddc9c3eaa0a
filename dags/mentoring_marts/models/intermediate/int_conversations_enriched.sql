-- Each conversation with its student, the student's school and the professional's profile.
SELECT c.conversation_id, c.student_id, c.professional_id, c.created_at, c.first_reply_at, d.reply_seconds,
       s.school_id, sc.school_name, sc.school_type, st.school_level,
       p.job_title, p.company, p.sector
FROM {{ ref('stg_conversations') }} c
LEFT JOIN {{ ref('stg_users') }} s ON s.user_id = c.student_id
LEFT JOIN {{ ref('stg_schools') }} sc ON sc.school_id = s.school_id
LEFT JOIN {{ ref('school_types') }} st ON st.school_type = sc.school_type
LEFT JOIN {{ ref('int_professional_profiles') }} p ON p.professional_id = c.professional_id
LEFT JOIN {{ ref('int_reply_delays') }} d ON d.conversation_id = c.conversation_id
