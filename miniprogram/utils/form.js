/** Turning an API refusal into messages next to the form fields it names. */

/**
 * {field: message} from an ApiError: validation errors name fields in details.fields (marshmallow's
 * messages, first one per field); rule refusals name one field in details.field with the message.
 */
function fieldErrors(err) {
  const errors = {};
  const details = (err && err.details) || {};
  if (details.field) errors[details.field] = err.message;
  Object.keys(details.fields || {}).forEach((field) => {
    const value = details.fields[field];
    errors[field] = Array.isArray(value) ? String(value[0]) : (typeof value === 'string' ? value : err.message);
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
