/**
 * 封存 on the phone. The seals in force of a canteen: who keeps its records reads them on 台账填报 (a sealed batch
 * must not be cooked, a sealed sample not thrown away, a sealed area not worked in), and whoever may seal
 * (the principal, the region's regulators) releases them with a reason. On an inspection visit a regulator seals
 * on the spot a kitchen area, a batch received in the last week or a retained sample not yet disposed of.
 */
const http = require('../utils/request');
const time = require('../utils/time');
const records = require('./records');

/** How far back the batches offered for sealing go (a batch is cooked within days of delivery). */
const BATCH_DAYS = 7;
/** Retained samples are kept 48 h; three days covers any sample still in the fridge. */
const SAMPLE_DAYS = 3;

function inForce(canteenId) {
  return http.get(`/canteens/${canteenId}/seals`, { status: 'in_force' }, { silent: true }).then((page) => page.items);
}

/** A seal as a list line: what is sealed, why, by whom and since when. */
function line(seal) {
  return {
    id: seal.id,
    title: `${seal.target_label} · ${seal.target_name}`,
    meta: `${seal.reason} · ${seal.authority_label}封存于 ${time.dateTime(seal.created_at)}`,
  };
}

/**
 * What a seal could hold now, as picker rows {target, id, label}: the canteen's areas, the batches of the
 * deliveries of the last week and the retained samples not yet disposed of, less what is sealed already.
 */
function candidates(canteenId, sealed) {
  const today = time.today();
  const taken = new Set((sealed || []).map((s) => `${s.target}:${s.area_id || s.item_id || s.sample_id}`));
  return Promise.all([
    http.get(`/canteens/${canteenId}/areas`, null, { silent: true }),
    records.list(canteenId, 'receivings', { from: time.shiftDay(today, 1 - BATCH_DAYS), to: today, limit: 50 }),
    records.list(canteenId, 'samples', { from: time.shiftDay(today, 1 - SAMPLE_DAYS), to: today, disposed: false,
      limit: 50 }),
  ]).then(([areas, receivings, samples]) => [
    ...areas.map((a) => ({ target: 'area', id: a.id, label: `区域 · ${a.name}` })),
    ...receivings.items.reduce((rows, r) => rows.concat(r.items.map((i) => ({
      target: 'item', id: i.item_id, label: `批次 · ${i.ingredient}（批号 ${i.batch}）`,
    }))), []),
    // A sample is sealed by its record's id, the one that stays the same across its corrections.
    ...samples.items.map((s) => ({
      target: 'sample', id: s.id, label: `留样 · ${time.dateTime(s.sampled_at).slice(5)} ${s.dish_name}`,
    })),
  ].filter((row) => !taken.has(`${row.target}:${row.id}`)));
}

/** Seal a target of the canteen with the reason; rejects with the server's error (the form shows it). */
function seal(canteenId, target, targetId, reason) {
  return records.send('seal', `/canteens/${canteenId}/seals`, { target, target_id: targetId, reason });
}

/** Release a seal (its record id) with the reason. */
function release(sealId, reason) {
  return records.send(`seal-release-${sealId}`, `/records/${sealId}/release`, { reason });
}

module.exports = { inForce, line, candidates, seal, release };
