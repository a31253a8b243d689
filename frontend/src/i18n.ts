// Interface texts, Russian first. KPI names come from the registry (GET /api/v1/kpi), not from here.
import { createI18n } from 'vue-i18n';

const ru = {
  app: { title: 'Аналитика клиники', demo: 'Демо-режим: данные сгенерированы для примера клиники, это не ваш портал.', connecting: 'Подключение к Битрикс24…', outside: 'Эта страница открывается внутри Битрикс24: откройте приложение «Аналитика клиники» в вашем портале.', failed: 'Не удалось открыть приложение', admin: 'администратор', installing: 'Завершение установки…' },
  nav: { overview: 'Обзор', doctors: 'Врачи', directions: 'Направления', services: 'Услуги', retention: 'Возвращаемость', data: 'Данные', settings: 'Настройки' },
  filters: { period: 'Период', compare: 'Сравнение', doctor: 'Врач', direction: 'Направление', all: 'Все', from: 'с', to: 'по', apply: 'Применить' },
  presets: { today: 'Сегодня', week: 'Эта неделя', month: 'Этот месяц', last_month: 'Прошлый месяц', quarter: 'Квартал', year: 'Год', last_12m: 'Последние 12 месяцев', custom: 'Произвольный' },
  fresh: {
    at: 'данные на {time}',
    never: 'данные ещё не синхронизированы',
    running: 'идёт синхронизация',
    // The schedule (lib/schedule.ts); plural forms by Intl.PluralRules.
    everyMinute: 'синхронизация каждую минуту',
    minutes: { one: 'синхронизация каждую {n} минуту', few: 'синхронизация каждые {n} минуты', many: 'синхронизация каждые {n} минут', other: 'синхронизация каждые {n} минуты' },
    everyHour: 'синхронизация каждый час',
    hours: { one: 'синхронизация каждый {n} час', few: 'синхронизация каждые {n} часа', many: 'синхронизация каждые {n} часов', other: 'синхронизация каждые {n} часа' },
    daily: 'синхронизация ежедневно в {time}',
    nextAt: 'следующая синхронизация в {time}',
    nextOn: 'следующая синхронизация {time}',
    cron: 'синхронизация по расписанию «{cron}»',
  },
  panel: { loading: 'Загрузка…', error: 'Ошибка загрузки', retry: 'Повторить', noData: 'нет данных', notSynced: 'Нет данных: первая синхронизация с порталом ещё не завершилась.', empty: 'За выбранный период данных нет.' },
  cmp: { previous: 'к прошлому периоду', lastYear: 'к прошлому году' },
  overview: { trend: 'Выручка по периодам', plan: 'План', mtd: 'С начала месяца', ytd: 'С начала года', fact: 'Факт', planValue: 'План', pct: 'Выполнение', forecast: 'Прогноз', noPlan: 'план не задан' },
  doctors: { table: 'Врачи', revenueChart: 'Выручка по врачам', returnChart: 'Возврат за 180 дней', returnClinic: 'Возврат в клинику, 180 дн.', returnDoctor: 'Возврат к врачу, 180 дн.', ltv: 'LTV первичных', flag: 'Сигнал', flagText: 'много первичных, мало возвратов', doctor: 'Врач', back: '← Все врачи', cohort: 'Когорта' },
  directions: { table: 'Направления', chart: 'Пациенты и выручка', direction: 'Направление', patients: 'Пациенты', revenueShare: 'Доля выручки', patientShare: 'Доля пациентов' },
  services: { table: 'Услуги', pareto: 'Парето по выручке', service: 'Услуга', quantity: 'Количество', visits: 'Визиты', avgPrice: 'Средняя цена', share: 'Доля', cumShare: 'Накопленная доля', abc: 'ABC', doctors: 'Врачей', search: 'Поиск услуги' },
  retention: { heatmap: 'Когорты по месяцу первого визита', days: 'Окно возврата', daysN: '{n} дн.', byDoctor: 'Возврат по врачам', byDirection: 'Возврат по направлениям', rate: 'Возврат', returned: 'Вернулись', cohort: 'Когорта', censored: 'Ещё в окне', scope: 'Куда вернулся', toClinic: 'в клинику', toDoctor: 'к тому же врачу', month: 'Месяц', size: 'Пациентов', monthsSince: 'Мес. {n}' },
  data: { sync: 'Синхронизация', runs: 'История', quality: 'Качество данных', full: 'Полная синхронизация', incremental: 'Синхронизировать изменения', started: 'Запуск', finished: 'Окончание', mode: 'Режим', status: 'Статус', requests: 'Запросов', entities: 'Записей', running: 'Идёт синхронизация', idle: 'Синхронизация не идёт', auth: 'Доступ к порталу', authOk: 'в порядке', needsReauth: 'нужна повторная авторизация: переустановите приложение', visits: 'Визитов', withoutPatient: 'Без пациента', withoutDoctor: 'Без врача', withBadRows: 'С нулевыми или отрицательными строками', converted: 'Пересчитано из другой валюты', modes: { full: 'полная', incremental: 'изменения', reconcile: 'сверка', events: 'по событиям' }, statuses: { running: 'идёт', finished: 'завершена', failed: 'с ошибкой' }, bi: 'BI Конструктор', biRegister: 'Подключить', biDatasets: 'Наборы данных', biStatus: { not_registered: 'не подключён', registering: 'подключается…', registered: 'подключён', unavailable: 'недоступен на этом портале', failed: 'ошибка подключения' }, withoutDate: 'Сделки без даты визита (не учтены)', already: 'Синхронизация уже идёт' },
  settings: { model: 'Модель клиники', plans: 'Планы по месяцам', access: 'Доступ', save: 'Сохранить', saved: 'Сохранено: показатели пересчитываются', patient: 'Пациент', contact: 'Контакт', company: 'Компания', visitDate: 'Дата визита', doctor: 'Врач', assigned: 'Ответственный сделки', direction: 'Направление', pipeline: 'Воронка сделки', productSection: 'Раздел товара', revenue: 'Выручка визита', productRows: 'Товары сделки', opportunity: 'Сумма сделки', pipelines: 'Воронки визитов', allPipelines: 'все, кроме воронок записи', stages: 'Стадии визита', timeZone: 'Часовой пояс', syncCron: 'Расписание синхронизации (cron; пусто — по умолчанию)', othersSee: 'Остальные пользователи видят', seeAll: 'всё', seeOwn: 'итоги клиники и свои показатели', admins: 'Администраторы приложения', year: 'Год', month: 'Месяц', planRevenue: 'Выручка', planVisits: 'Визиты', planNew: 'Первичные', planClinic: 'Клиника целиком', planDirections: 'Направления', planDoctors: 'Врачи', detected: 'Предложено автоматически', applyDetected: 'Подставить', userField: 'Поле сделки' },
  export: { csv: 'CSV', xlsx: 'Excel', total: 'Итого' },
  misc: { unknownDoctor: 'Не указан', openDeal: 'Открыть сделку' },
};

const en: typeof ru = {
  app: { title: 'Clinic analytics', demo: 'Demo mode: the data is generated for a sample clinic, this is not your portal.', connecting: 'Connecting to Bitrix24…', outside: 'This page opens inside Bitrix24: open the “Clinic analytics” app in your portal.', failed: 'The app could not be opened', admin: 'administrator', installing: 'Finishing the installation…' },
  nav: { overview: 'Overview', doctors: 'Doctors', directions: 'Directions', services: 'Services', retention: 'Retention', data: 'Data', settings: 'Settings' },
  filters: { period: 'Period', compare: 'Compare', doctor: 'Doctor', direction: 'Direction', all: 'All', from: 'from', to: 'to', apply: 'Apply' },
  presets: { today: 'Today', week: 'This week', month: 'This month', last_month: 'Last month', quarter: 'Quarter', year: 'Year', last_12m: 'Last 12 months', custom: 'Custom' },
  fresh: {
    at: 'data as of {time}',
    never: 'not synced yet',
    running: 'sync in progress',
    everyMinute: 'synced every minute',
    minutes: { one: 'synced every {n} minute', few: 'synced every {n} minutes', many: 'synced every {n} minutes', other: 'synced every {n} minutes' },
    everyHour: 'synced every hour',
    hours: { one: 'synced every {n} hour', few: 'synced every {n} hours', many: 'synced every {n} hours', other: 'synced every {n} hours' },
    daily: 'synced daily at {time}',
    nextAt: 'next sync at {time}',
    nextOn: 'next sync on {time}',
    cron: 'synced on the schedule “{cron}”',
  },
  panel: { loading: 'Loading…', error: 'Could not load', retry: 'Retry', noData: 'no data', notSynced: 'No data: the first sync with the portal has not finished yet.', empty: 'No data for the selected period.' },
  cmp: { previous: 'vs previous period', lastYear: 'vs last year' },
  overview: { trend: 'Revenue by period', plan: 'Plan', mtd: 'Month to date', ytd: 'Year to date', fact: 'Actual', planValue: 'Plan', pct: 'Done', forecast: 'Forecast', noPlan: 'no plan' },
  doctors: { table: 'Doctors', revenueChart: 'Revenue by doctor', returnChart: '180-day return', returnClinic: 'Return to clinic, 180 d', returnDoctor: 'Return to doctor, 180 d', ltv: 'LTV of new patients', flag: 'Signal', flagText: 'many new, few return', doctor: 'Doctor', back: '← All doctors', cohort: 'Cohort' },
  directions: { table: 'Directions', chart: 'Patients and revenue', direction: 'Direction', patients: 'Patients', revenueShare: 'Revenue share', patientShare: 'Patient share' },
  services: { table: 'Services', pareto: 'Revenue Pareto', service: 'Service', quantity: 'Quantity', visits: 'Visits', avgPrice: 'Average price', share: 'Share', cumShare: 'Cumulative share', abc: 'ABC', doctors: 'Doctors', search: 'Search a service' },
  retention: { heatmap: 'Cohorts by month of first visit', days: 'Return window', daysN: '{n} d', byDoctor: 'Return by doctor', byDirection: 'Return by direction', rate: 'Return', returned: 'Returned', cohort: 'Cohort', censored: 'Still in window', scope: 'Returned to', toClinic: 'the clinic', toDoctor: 'the same doctor', month: 'Month', size: 'Patients', monthsSince: 'M{n}' },
  data: { sync: 'Sync', runs: 'History', quality: 'Data quality', full: 'Full sync', incremental: 'Sync changes', started: 'Started', finished: 'Finished', mode: 'Mode', status: 'Status', requests: 'Requests', entities: 'Records', running: 'Sync in progress', idle: 'No sync running', auth: 'Portal access', authOk: 'ok', needsReauth: 'needs re-authorisation: reinstall the app', visits: 'Visits', withoutPatient: 'Without a patient', withoutDoctor: 'Without a doctor', withBadRows: 'With zero or negative rows', converted: 'Converted from another currency', modes: { full: 'full', incremental: 'changes', reconcile: 'reconcile', events: 'events' }, statuses: { running: 'running', finished: 'finished', failed: 'failed' }, bi: 'BI Builder', biRegister: 'Connect', biDatasets: 'Datasets', biStatus: { not_registered: 'not connected', registering: 'connecting…', registered: 'connected', unavailable: 'not available on this portal', failed: 'connection failed' }, withoutDate: 'Deals without a visit date (left out)', already: 'A sync is already running' },
  settings: { model: 'Clinic model', plans: 'Monthly plans', access: 'Access', save: 'Save', saved: 'Saved: the numbers are being recomputed', patient: 'Patient', contact: 'Contact', company: 'Company', visitDate: 'Visit date', doctor: 'Doctor', assigned: 'Deal’s responsible user', direction: 'Direction', pipeline: 'Deal pipeline', productSection: 'Product section', revenue: 'Visit revenue', productRows: 'Deal products', opportunity: 'Deal amount', pipelines: 'Visit pipelines', allPipelines: 'all but appointment pipelines', stages: 'Visit stages', timeZone: 'Time zone', syncCron: 'Sync schedule (cron; empty = the default)', othersSee: 'Other users see', seeAll: 'everything', seeOwn: 'clinic totals and their own numbers', admins: 'App administrators', year: 'Year', month: 'Month', planRevenue: 'Revenue', planVisits: 'Visits', planNew: 'New patients', planClinic: 'The whole clinic', planDirections: 'Directions', planDoctors: 'Doctors', detected: 'Detected', applyDetected: 'Use it', userField: 'Deal field' },
  export: { csv: 'CSV', xlsx: 'Excel', total: 'Total' },
  misc: { unknownDoctor: 'Not set', openDeal: 'Open deal' },
};

export type Lang = 'ru' | 'en';

export function makeI18n(lang: Lang) {
  return createI18n({ legacy: false, locale: lang, fallbackLocale: 'ru', messages: { ru, en } });
}
