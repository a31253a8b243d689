-- Patients: one row per patient with at least one visit, recomputed for the patients in
-- clinic_dirty_patient (after visit_order.sql). A patient's "first" attributes (doctor, direction,
-- source) are those of the first-ever visit deal. Lifetime revenue is every visit up to the last
-- sync ("up to today", kpi.md §2 ltv). Return days count to the next visit on a LATER day, so a
-- second deal on the first day is not a return (kpi.md §4); the same-doctor variant only looks at
-- visits with the first doctor, and stays null when the first visit had no doctor.
DELETE FROM clinic_patient
WHERE portal_id = :portal
  AND patient_id IN (SELECT patient_id FROM clinic_dirty_patient WHERE portal_id = :portal);

INSERT INTO clinic_patient (
  portal_id, patient_id, first_deal_id, first_date, first_week, first_month, first_doctor_id,
  first_direction_id, first_source_id, visit_count, lifetime_revenue_minor, last_date,
  return_days_clinic, return_days_doctor)
SELECT f.portal_id, f.patient_id, f.deal_id, f.visit_date, f.visit_week, f.visit_month, f.doctor_id,
       f.direction_id, f.source_id, a.visit_count, a.revenue, a.last_date,
       (SELECT MIN(r.day_no) FROM clinic_visit r
         WHERE r.portal_id = f.portal_id AND r.patient_id = f.patient_id AND r.day_no > f.day_no) - f.day_no,
       (SELECT MIN(r.day_no) FROM clinic_visit r
         WHERE r.portal_id = f.portal_id AND r.patient_id = f.patient_id AND r.day_no > f.day_no
           AND r.doctor_id = f.doctor_id) - f.day_no
FROM clinic_visit f
JOIN (
  SELECT v.patient_id, COUNT(*) AS visit_count, SUM(v.revenue_minor) AS revenue, MAX(v.visit_date) AS last_date
  FROM clinic_visit v
  JOIN clinic_dirty_patient d ON d.portal_id = v.portal_id AND d.patient_id = v.patient_id
  WHERE v.portal_id = :portal
  GROUP BY v.patient_id
) a ON a.patient_id = f.patient_id
WHERE f.portal_id = :portal AND f.is_first = 1;
