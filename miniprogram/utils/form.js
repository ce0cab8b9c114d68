/** Turning an API refusal into messages next to the form fields it names. */

/** The first message of a marshmallow error value (a list of messages, or fields of a nested object or list). */
function firstMessage(value) {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.length ? firstMessage(value[0]) : '';
  if (value && typeof value === 'object') {
    const keys = Object.keys(value);
    return keys.length ? firstMessage(value[keys[0]]) : '';
  }
  return '';
}

/** Nested errors by dotted path ("dishes.0.name"), so a form can show them next to the row they are about. */
function addPaths(errors, prefix, value) {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return;
  Object.keys(value).forEach((key) => {
    const path = `${prefix}.${key}`;
    errors[path] = firstMessage(value[key]);
    addPaths(errors, path, value[key]);
  });
}

/**
 * {field: message} from an ApiError: validation errors name fields in details.fields (marshmallow's
 * messages, first one per field, nested ones also under "field.index.name"); rule refusals name one field in
 * details.field with the message.
 */
function fieldErrors(err) {
  const errors = {};
  const details = (err && err.details) || {};
  if (details.field) errors[details.field] = err.message;
  Object.keys(details.fields || {}).forEach((field) => {
    const value = details.fields[field];
    errors[field] = firstMessage(value) || err.message;
    addPaths(errors, field, value);
  });
  return errors;
}

/** Message for the whole form when no field is named, else ''. */
function formError(err, errors) {
  return Object.keys(errors).length ? '' : err.message;
}

/** The Chinese message shown when a send failed but can be retried as it is. */
function retryHint(err) {
  return err.retryable ? `${err.message}。内容已保留，请点击“重新提交”，不会重复登记。` : err.message;
}

module.exports = { fieldErrors, formError, retryHint };
