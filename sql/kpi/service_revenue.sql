-- @id service_revenue
-- @label.ru Выручка по услугам
-- @label.en Revenue by service
-- @unit money
-- @empty 0
-- @additive yes
-- @dimensions service, doctor, direction, day, week, month
-- @shape abc
-- @definition Product-row revenue (PRICE × QUANTITY in the account currency) of visits dated in [from, to), with quantity, visits containing the service, average price and doctors performing it. By service the rows carry share of the total, cumulative share and ABC class (ranked by revenue, a service is A while those above it hold less than 80 % of revenue, B below 95 %, C the rest). Visits without product rows have no service and are not here. kpi.md §3.
SELECT {{dim}} AS dim, SUM(f.revenue_minor) AS value, SUM(f.quantity) AS quantity,
       {{line_visits}} AS visits, COUNT(DISTINCT f.doctor_id) AS doctors,
       SUM(f.revenue_minor) * 1.0 / NULLIF(SUM(f.quantity), 0) AS avg_price_minor
FROM {{line_sums}} f
WHERE 1 = 1 {{filters}}
GROUP BY {{dim}}
