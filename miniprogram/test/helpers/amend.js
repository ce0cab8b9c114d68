/** 更正 in page tests: a record form opened on a stored record, and a correction sent with its reason. */
const {
  as, openPage, tap, type, fixture,
} = require('./mp');

/**
 * A ledger page (behaviors/ledger-page.js) opened by the canteen manager on the list fixture `listName`, its form
 * open when `withForm`; resolves with the runtime and `page`.
 */
async function openLedgerAsManager(route, listName, withForm) {
  const runtime = as('manager');
  runtime.server.serve('canteens_school_1');
  runtime.server.serve(listName);
  const page = await openPage(route);
  if (withForm) await tap(page, '#toggle-form');
  return Object.assign(runtime, { page });
}

/**
 * A record form opened to correct (更正) the record of the draft fixture `draftName`; `lists` are the fixtures the form
 * loads (a name, or [name, serve options]).
 */
function openAmending(server, route, draftName, lists) {
  ['canteens_school_1'].concat(lists).forEach((list) => (Array.isArray(list) ? server.serve(...list) : server.serve(list)));
  server.serve(draftName);
  return openPage(route, { amend: String(fixture(draftName).body.record_id) });
}

/** Give the reason and submit, answered by the fixture `amendmentName`; resolves with the bodies sent. */
async function submitCorrection(page, server, amendmentName, reason) {
  await type(page, '#reason', reason);
  server.serve(amendmentName, { times: 1 });
  await tap(page, '#submit');
  return server.sent(fixture(amendmentName).request.path, 'POST').map((r) => r.data);
}

/**
 * 食材溯源 of the first lunch dish on the day after the contract's corrections (`today_amended`: its delivery and its
 * supplier's licence corrected); resolves with the page and the dish.
 */
async function openCorrectedTrace(server) {
  server.serve('today_amended');
  const lunch = fixture('today_amended').body.canteens[0].meals.find((m) => m.meal === 'lunch');
  const dish = lunch.menu.dishes[0];
  const page = await openPage('pages/records/trace/index', { dish_id: String(dish.dish_id), date: '2026-03-11' });
  return { page, dish };
}

module.exports = {
  openAmending, openCorrectedTrace, openLedgerAsManager, submitCorrection,
};
