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

module.exports = { openAmending, openLedgerAsManager, submitCorrection };
