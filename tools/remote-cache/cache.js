// njs header filter for the Nx self-hosted remote cache served by nginx (see nginx.conf.template).
//
// Nx's client counts a PUT as stored only when the answer is exactly 200: 403 and 409 are taken
// silently as "not stored", anything else (201, 204 included) as an error that it retries.
// nginx's DAV module answers a new file with 201 (and an overwrite, which the config's 409 check
// leaves only to two racing uploads of the same hash, with 204), so both become 200 here.
// (The Location header of a 201 stays; Nx ignores it.)
function putStatus(r) {
  if (r.method !== 'PUT') return;
  if (r.status === 201 || r.status === 204) {
    r.status = 200;
    // A 204 carries no Content-Length; a 200 without one would leave a keep-alive client waiting.
    r.headersOut['Content-Length'] = '0';
  }
}

export default { putStatus };
