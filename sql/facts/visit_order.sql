-- Visit order within each patient's whole history, for the patients in clinic_dirty_patient.
-- A patient's visits are ordered by (visit_date, deal_id): the first is the first-ever visit (two
-- deals on one day: the lower deal id is first, the other is visit 2 on the same day and is not a
-- return — return metrics compare days, see patient.sql). first_date and months_since_first are
-- copied onto every visit so cohort KPIs read one table.
-- First, the days on which a visit's first-visit flag is about to change: their daily sums
-- (visit_day.sql) must be recomputed, and only theirs — not every day a dirty patient ever came.
INSERT INTO clinic_dirty_day (portal_id, visit_date)
SELECT DISTINCT v.portal_id, v.visit_date
FROM clinic_visit v
JOIN (
  SELECT v2.deal_id, ROW_NUMBER() OVER (PARTITION BY v2.patient_id ORDER BY v2.visit_date, v2.deal_id) AS n
  FROM clinic_visit v2
  JOIN clinic_dirty_patient d ON d.portal_id = v2.portal_id AND d.patient_id = v2.patient_id
  WHERE v2.portal_id = :portal
) o ON o.deal_id = v.deal_id
WHERE v.portal_id = :portal
  AND v.is_first <> CASE WHEN o.n = 1 THEN 1 ELSE 0 END
  AND NOT EXISTS (SELECT 1 FROM clinic_dirty_day x WHERE x.portal_id = v.portal_id AND x.visit_date = v.visit_date);

UPDATE clinic_visit
SET visit_number = o.n,
    is_first = CASE WHEN o.n = 1 THEN 1 ELSE 0 END,
    first_date = o.first_date,
    months_since_first = clinic_visit.month_no - o.first_month_no
FROM (
  SELECT v.deal_id,
         ROW_NUMBER() OVER (PARTITION BY v.patient_id ORDER BY v.visit_date, v.deal_id) AS n,
         MIN(v.visit_date) OVER (PARTITION BY v.patient_id) AS first_date,
         MIN(v.month_no) OVER (PARTITION BY v.patient_id) AS first_month_no
  FROM clinic_visit v
  JOIN clinic_dirty_patient d ON d.portal_id = v.portal_id AND d.patient_id = v.patient_id
  WHERE v.portal_id = :portal
) o
WHERE clinic_visit.portal_id = :portal AND clinic_visit.deal_id = o.deal_id;
