-- @id return_cohort
-- @label.ru Когорты возврата
-- @label.en Return cohorts
-- @unit percent
-- @additive no
-- @dimensions month
-- @columns doctor=first_doctor_id, direction=first_direction_id, month=first_month
-- @shape cohort
-- @definition Patients by month of first-ever visit in [from, to) (rows) × months since that month (columns): each cell is the share of the cohort with a visit in that month; month 0 is the cohort itself. Filters doctor/direction select the cohort by its first visit. kpi.md §4.
SELECT {{dim}} AS dim, 0 AS months_since, COUNT(*) AS patients
FROM clinic_patient f
WHERE f.portal_id = :portal AND f.first_date >= :from AND f.first_date < :to {{filters}}
GROUP BY {{dim}}
UNION ALL
-- A patient's first visit of a month (the previous one is in an earlier month) counts them once.
SELECT {{dim}} AS dim, v.months_since_first AS months_since, COUNT(*) AS patients
FROM clinic_patient f
JOIN clinic_visit v ON v.portal_id = f.portal_id AND v.patient_id = f.patient_id
WHERE f.portal_id = :portal AND f.first_date >= :from AND f.first_date < :to AND v.months_since_first > 0
  AND v.prev_date < v.visit_month {{filters}}
GROUP BY {{dim}}, v.months_since_first
