// Stage history (crm.stagehistory.list) is written last, in time order, because Bitrix24 appends a
// record at the moment of each move: IDs grow with CREATED_TIME, and sync code may rely on that.
// Events are collected column-wise (plain number/string arrays) — at network scale there are
// about a million of them and one object per event would double the generator's memory.
import type { PortalData } from '../store.js';

export class HistoryLog {
  private readonly time: number[] = [];
  private readonly owner: number[] = [];
  private readonly entity: number[] = [];
  private readonly type: number[] = [];
  private readonly category: (number | null)[] = [];
  private readonly stage: string[] = [];
  private readonly semantic: string[] = [];

  get size(): number {
    return this.time.length;
  }

  /** `entityTypeId` 2 deal, 1 lead; `typeId` 1 created, 2 moved. */
  push(
    entityTypeId: 1 | 2,
    ownerId: number,
    typeId: 1 | 2,
    time: number,
    categoryId: number | null,
    stageId: string,
    semantic: string,
  ): void {
    this.time.push(time);
    this.owner.push(ownerId);
    this.entity.push(entityTypeId);
    this.type.push(typeId);
    this.category.push(categoryId);
    this.stage.push(stageId);
    this.semantic.push(semantic);
  }

  /** Inserts all events in time order; returns the history IDs of each deleted deal's records. */
  write(data: PortalData, deletedDeals: Set<number>): number[] {
    const order = new Int32Array(this.time.length);
    for (let i = 0; i < order.length; i++) order[i] = i;
    const t = this.time;
    order.sort((a, b) => t[a]! - t[b]! || a - b);
    const table = data.table('stagehistory');
    const doomed: number[] = [];
    for (const i of order) {
      const row = table.insert({
        ID: table.nextId(),
        ENTITY_TYPE_ID: this.entity[i]!,
        TYPE_ID: this.type[i]!,
        OWNER_ID: this.owner[i]!,
        CREATED_TIME: t[i]!,
        CATEGORY_ID: this.category[i]!,
        STAGE_SEMANTIC_ID: this.semantic[i]!,
        STAGE_ID: this.stage[i]!,
      });
      if (this.entity[i] === 2 && deletedDeals.has(this.owner[i]!)) doomed.push(row.ID);
    }
    return doomed;
  }
}
