// Hash routes: #/orders?state=in_review, #/orders/<id or number>, #/report, ... Parsing only;
// app.js renders the view a route names.
export function parseRoute(hash) {
  const text = (hash || '').replace(/^#\/?/, '');
  const [pathPart, queryPart = ''] = text.split('?');
  const parts = pathPart.split('/').filter(Boolean).map((part) => {
    try { return decodeURIComponent(part); } catch { return part; }
  });
  const query = new URLSearchParams(queryPart);
  if (parts.length === 0) return { name: 'home', parts, query };
  if (parts[0] === 'orders' && parts.length > 1) return { name: 'order', id: parts[1], parts, query };
  return { name: parts[0], parts, query };
}

// '#/orders' + {state: 'in_review', risk: ''} -> '#/orders?state=in_review'
export function routeHash(path, query) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== '' && value !== false) params.set(key, value);
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}
