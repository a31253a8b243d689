// @vitest-environment happy-dom
// The dashboard's components mounted with the app's context: a table sorts, exports what it shows and
// renders names from the portal as text; a KPI card writes its value and changes as the locale does
// (percentage points for shares, no relative change when there was nothing before); a panel shows its
// own error with a retry.
import { mount } from '@vue/test-utils';
import { defineComponent, h, nextTick } from 'vue';
import { describe, expect, it } from 'vitest';
import DataTable from '../../frontend/src/components/DataTable.vue';
import FreshnessLine from '../../frontend/src/components/FreshnessLine.vue';
import KpiCard from '../../frontend/src/components/KpiCard.vue';
import PanelCard from '../../frontend/src/components/PanelCard.vue';
import { makeI18n } from '../../frontend/src/i18n.js';
import { ApiError } from '../../frontend/src/lib/api.js';
import { APP, type AppContext } from '../../frontend/src/lib/context.js';
import { createFormatter } from '../../frontend/src/lib/format.js';
import { usePanel } from '../../frontend/src/lib/panel.js';
import type { Column } from '../../frontend/src/lib/table.js';

const fmt = createFormatter('ru-RU', 'нет данных', 'п. п.');
const nb = (s: string) => s.replace(/[\u00a0\u202f]/g, ' ').replace(/\s+/g, ' ').trim();
/** A comparison line as read: its parts (change, then "к прошлому …") with a space between. */
const line = (w: ReturnType<typeof mount>, role: string) => nb(w.findAll(`[data-role=${role}] > span`).map((s) => s.text()).join(' '));
const units: Record<string, string> = { revenue: 'money', repeat_share: 'percent' };
const app = { fmt, lang: 'ru', label: (id: string) => ({ revenue: 'Выручка', repeat_share: 'Доля повторных пациентов' })[id] ?? id, unit: (id: string) => units[id] ?? 'count' } as unknown as AppContext;
const global = { plugins: [makeI18n('ru')], provide: { [APP as symbol]: app } };

interface Row { id: string; name: string; revenue: number | null }
const columns: Column<Row>[] = [
  { key: 'name', label: 'Услуга', value: (r) => r.name },
  { key: 'revenue', label: 'Выручка', unit: 'money', value: (r) => r.revenue },
];
const rows: Row[] = [
  { id: '1', name: 'Имплантат', revenue: 45000 },
  { id: '2', name: '<img src=x onerror=alert(1)>', revenue: 48249.5 },
  { id: '3', name: 'Осмотр', revenue: null },
];

describe('DataTable', () => {
  const mountTable = (search = '') =>
    mount(DataTable, { props: { columns, rows, name: 'uslugi', period: '2026-10-01_2026-10-31', caption: [], rowKey: (r: Row) => r.id, initialSort: 'revenue', search }, global });

  it('shows names as text and numbers in the locale, sorted by revenue with empty values last', () => {
    const w = mountTable();
    expect(w.findAll('tbody tr').map((tr) => tr.attributes('data-row'))).toEqual(['2', '1', '3']);
    const cells = w.findAll('tbody tr')[0]!.findAll('td');
    expect(cells[0]!.text()).toBe('<img src=x onerror=alert(1)>');
    expect(w.find('img').exists()).toBe(false);
    expect(nb(cells[1]!.text())).toBe('48 250 ₽');
    expect(cells[1]!.attributes('data-value')).toBe('48249.5');
    expect(w.findAll('tbody tr')[2]!.findAll('td')[1]!.text()).toBe('нет данных');
  });

  it('sorts by a clicked header, again for the other direction, and filters by the search', async () => {
    const w = mountTable();
    await w.find('th[data-col=name]').trigger('click');
    expect(w.findAll('tbody tr').map((tr) => tr.attributes('data-row'))).toEqual(['3', '1', '2']);
    await w.find('th[data-col=name]').trigger('click');
    expect(w.find('th[data-col=name]').attributes('aria-sort')).toBe('ascending');
    expect(w.findAll('tbody tr').map((tr) => tr.attributes('data-row'))).toEqual(['2', '1', '3']);
    expect(mountTable('имплан').findAll('tbody tr').map((tr) => tr.attributes('data-row'))).toEqual(['1']);
  });
});

describe('KpiCard', () => {
  it('money: value, signed change and relative change; none when there was nothing before', () => {
    const w = mount(KpiCard, {
      props: { id: 'revenue', value: 32384794.2, previous: { value: 29250623, delta: 3134171.2, deltaPct: 0.107 }, lastYear: { value: 0, delta: 32384794.2, deltaPct: null } },
      global,
    });
    expect(w.find('.label').text()).toBe('Выручка');
    expect(nb(w.find('[data-role=value]').text())).toBe('32 384 794 ₽');
    expect(line(w, 'previous')).toBe('+3 134 171 ₽ (+10,7 %) к прошлому периоду');
    expect(line(w, 'last-year')).toBe('+32 384 794 ₽ к прошлому году');
  });
  it('shares: percent, and the change in percentage points', () => {
    const w = mount(KpiCard, { props: { id: 'repeat_share', value: 0.883, previous: { value: 0.889, delta: -0.006, deltaPct: -0.0067 } }, global });
    expect(nb(w.find('[data-role=value]').text())).toBe('88,3 %');
    expect(line(w, 'previous')).toBe('−0,6 п. п. к прошлому периоду');
    expect(w.find('[data-role=previous] .down').exists()).toBe(true);
  });
  it('a value the API gives as null is "нет данных"', () => {
    expect(mount(KpiCard, { props: { id: 'revenue', value: null }, global }).find('[data-role=value]').text()).toBe('нет данных');
  });
});

describe('PanelCard', () => {
  it('shows the panel’s own error with a retry, then its content once the retry succeeds', async () => {
    let fail = true;
    const Host = defineComponent({
      setup() {
        const p = usePanel('test.kpi', () => 'k', async () => {
          if (fail) throw new ApiError(500, 'internal', 'the KPI query failed');
          return 7;
        });
        return () => h(PanelCard, { panel: p, title: 'Визиты' }, { default: () => h('b', { class: 'content' }, String(p.data.value)) });
      },
    });
    const w = mount(Host, { global });
    for (let i = 0; i < 5; i++) await nextTick();
    expect(w.find('[role=alert]').text()).toContain('Ошибка загрузки: the KPI query failed');
    fail = false;
    await w.find('[role=alert] button').trigger('click');
    for (let i = 0; i < 5; i++) await nextTick();
    expect(w.find('[data-panel="test.kpi"]').attributes('data-state')).toBe('ready');
    expect(w.find('.content').text()).toBe('7');
  });
});

describe('FreshnessLine', () => {
  const mountLine = (lang: 'ru' | 'en', cron: string, nextAt: string | null, lastSyncedAt: string | null = '2026-01-05T09:05:00Z') => {
    const f = createFormatter(lang === 'en' ? 'en-GB' : 'ru-RU', 'нет данных', 'п. п.');
    const session = { portal: { sync: { auth: 'ok', state: 'finished', lastSyncedAt, schedule: { cron, nextAt } } } };
    const ctx = { ...app, fmt: f, lang, session } as unknown as AppContext;
    const w = mount(FreshnessLine, { global: { plugins: [makeI18n(lang)], provide: { [APP as symbol]: ctx } } });
    return { text: nb(w.text()), at: (iso: string) => f.time(iso), on: (iso: string) => f.dateTime(iso) };
  };
  it('says the portal’s own schedule in words, in Russian and in English', () => {
    const t5 = mountLine('ru', '*/5 * * * *', null);
    expect(t5.text).toBe(`данные на ${t5.on('2026-01-05T09:05:00Z')}, синхронизация каждые 5 минут`);
    expect(mountLine('ru', '*/2 * * * *', null).text).toMatch(/, синхронизация каждые 2 минуты$/);
    expect(mountLine('ru', '* * * * *', null).text).toMatch(/, синхронизация каждую минуту$/);
    expect(mountLine('ru', '15 */3 * * *', null).text).toMatch(/, синхронизация каждые 3 часа$/);
    expect(mountLine('ru', '0 * * * *', null).text).toMatch(/, синхронизация каждый час$/);
    expect(mountLine('en', '*/10 * * * *', null).text).toMatch(/^data as of .+, synced every 10 minutes$/);
    expect(mountLine('en', '0 */6 * * *', null).text).toMatch(/, synced every 6 hours$/);
  });
  it('tells any other schedule by its next run; daily ones by the time of day', () => {
    const next = new Date(Date.now() + 3_600_000 * 24 * 2).toISOString();
    const weekdays = mountLine('ru', '30 8 * * 1-5', next);
    expect(weekdays.text).toBe(`данные на ${weekdays.on('2026-01-05T09:05:00Z')}, следующая синхронизация ${nb(weekdays.on(next))}`);
    const daily = mountLine('en', '30 3 * * *', next);
    expect(daily.text).toBe(`data as of ${nb(daily.on('2026-01-05T09:05:00Z'))}, synced daily at ${nb(daily.at(next))}`);
    // Not planned yet: the expression itself.
    expect(mountLine('ru', '30 8 * * 1-5', null, null).text).toBe('данные ещё не синхронизированы, синхронизация по расписанию «30 8 * * 1-5»');
  });
});
