import { describe, expect, it } from 'vitest';
import { FUTURE_TOLERANCE_MS, caseDifferences, describeConflict, replacedByDefault } from './conflicts';
import { pngBytes, sampleCase } from '../../tests/unit/records-fixtures';

const NOW = Date.parse('2026-06-01T12:00:00.000Z');

describe('import conflicts', () => {
  it('compares instants, not strings: "…:30.500Z" is later than "…:30Z" although it sorts before it as text', () => {
    const local = sampleCase({ updatedAt: '2026-03-04T10:20:30.500Z', notes: 'edited here' });
    const file = sampleCase({ updatedAt: '2026-03-04T10:20:30Z' });
    expect(file.updatedAt > local.updatedAt).toBe(true); // what the string comparison concluded
    const c = describeConflict(local, local.updatedAt, file, NOW)!;
    expect(c.newer).toBe('local');
    expect(replacedByDefault(c, 'newer')).toBe(false);
    // The same instant written two ways, same content: nothing to decide.
    expect(
      describeConflict(sampleCase({ updatedAt: '2026-03-04T10:20:30Z' }), '2026-03-04T10:20:30Z', sampleCase({ updatedAt: '2026-03-04T10:20:30.000Z' }), NOW),
    ).toBeNull();
  });

  it('a timestamp in the future is suspicious and never wins by default', () => {
    const future = new Date(NOW + FUTURE_TOLERANCE_MS + 60_000).toISOString();
    const soon = new Date(NOW + 60_000).toISOString(); // a clock a minute fast is not suspicious
    const local = sampleCase();
    const c = describeConflict(local, local.updatedAt, sampleCase({ updatedAt: future, notes: 'x' }), NOW)!;
    expect([c.newer, c.suspicious, replacedByDefault(c, 'newer')]).toEqual(['file', ['file-future'], false]);
    const ok = describeConflict(local, local.updatedAt, sampleCase({ updatedAt: soon, notes: 'x' }), NOW)!;
    expect([ok.suspicious, replacedByDefault(ok, 'newer'), replacedByDefault(ok, 'skip')]).toEqual([[], true, false]);
    const localFuture = describeConflict(sampleCase({ updatedAt: future }), future, sampleCase({ notes: 'x' }), NOW)!;
    expect(localFuture.suspicious).toEqual(['local-future']);
  });

  it('names what differs (diagnosis, notes, images, result) with both sides; unreadable local copies have no diff', () => {
    const local = sampleCase({ notes: 'Seen in clinic', followUp: { diagnosis: 'ns', detail: 'PTPN11', updatedAt: '2026-04-01T00:00:00.000Z' } });
    const file = sampleCase({ notes: 'Referred', photo: { type: 'image/jpeg', bytes: pngBytes(100) }, crop: pngBytes(2000, 8) });
    expect(caseDifferences(local, file)).toEqual([
      { field: 'notes', local: 'Seen in clinic', incoming: 'Referred' },
      { field: 'diagnosis', local: 'ns', incoming: 'pending' },
      { field: 'diagnosisDetail', local: 'PTPN11', incoming: '' },
      { field: 'crop', local: 'stored', incoming: 'stored' },
      { field: 'photo', local: '', incoming: 'stored' },
    ]);
    expect(caseDifferences(local, local)).toEqual([]);
    expect(describeConflict(null, '2026-01-01T00:00:00Z', file, NOW)?.differences).toBeNull();
  });
});
