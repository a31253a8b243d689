-- @id new_patients
-- @label.ru Первичные пациенты
-- @label.en New patients
-- @unit count
-- @empty 0
-- @additive yes
-- @dimensions doctor, direction, source, day, week, month
-- @definition Patients whose first-ever visit (whole history, any doctor) is in [from, to); by doctor and direction, those of that first visit. kpi.md §2.
-- Every patient has exactly one first visit, so counting first visits counts patients: the daily sums
-- (clinic_visit_day) can answer it.
SELECT {{dim}} AS dim, SUM(f.new_patients) AS value
FROM {{visit_sums}} f
WHERE 1 = 1 {{filters}}
GROUP BY {{dim}}
