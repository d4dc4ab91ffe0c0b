// The chat page (the login page is the examples' shared one): plain HTML and
// one small inline script, no build step.
const escape = (s: unknown) =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)} · idgate chat demo</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1d2330}
input{width:100%;padding:.5rem;font:inherit;box-sizing:border-box}
button{padding:.5rem 1rem;font:inherit;cursor:pointer}
#log{border:1px solid #d5d9e0;border-radius:6px;padding:.75rem;min-height:12rem;max-height:60vh;overflow:auto}
.turn{margin:.25rem 0;white-space:pre-wrap}.you{color:#3553a0}.agent::before{content:"Agent: ";font-weight:600}.you::before{content:"You: ";font-weight:600}
#send{display:flex;gap:.5rem;margin-top:.75rem}#send input{flex:1}header{display:flex;justify-content:space-between;align-items:center}</style>
</head><body>${body}</body></html>`;
}

/**
 * The signed-in page: a chat box whose answers stream in. The browser sends
 * only `{ message, conversationId, stream }`; who is asking is decided by the
 * server from the session cookie.
 */
export function chatPage(identity: { id: string; name?: string; email: string }): string {
  return layout(
    'Chat',
    `<header><h1>Chat</h1><form method="post" action="/logout"><button type="submit" id="logout">Sign out</button></form></header>
<p>Signed in as <strong>${escape(identity.name ?? identity.email)}</strong>. <button type="button" id="new">New conversation</button></p>
<div id="log" aria-live="polite"></div>
<form id="send"><input id="message" autocomplete="off" placeholder="Ask something…" required><button type="submit">Send</button></form>
<h2>Your conversations</h2><ul id="history"></ul>
<script>
  const log = document.getElementById('log');
  const input = document.getElementById('message');
  let conversationId = null;
  // The chat API lists conversations but serves no transcript, so this tab keeps
  // the turns it saw, per signed-in user, in sessionStorage (gone with the tab,
  // and cleared on sign-out): clicking a past conversation shows them again.
  const STORE = 'idgate-chat:' + ${JSON.stringify(identity.id).replace(/</g, '\\u003c')};
  const saved = () => { try { return JSON.parse(sessionStorage.getItem(STORE) || '{}'); } catch { return {}; } };
  let pending = [];
  function remember() {
    if (!conversationId) return;
    const all = saved();
    all[conversationId] = (all[conversationId] || []).concat(pending);
    pending = [];
    sessionStorage.setItem(STORE, JSON.stringify(all));
  }

  function turn(who, text) {
    const p = document.createElement('p');
    p.className = 'turn ' + who;
    p.textContent = text;
    log.append(p);
    log.scrollTop = log.scrollHeight;
    return p;
  }

  function show(id, title) {
    conversationId = id;
    log.replaceChildren();
    const turns = saved()[id] || [];
    if (turns.length === 0) turn('agent', 'Continuing "' + title + '" (its earlier messages were sent from another tab or device).');
    for (const t of turns) turn(t.who, t.text);
    loadHistory();
  }

  // Bookbag v2 frames: "data: {json}" lines separated by blank lines, ending with "data: [DONE]".
  function render(event, out) {
    for (const line of event.split('\\n')) {
      if (!line.startsWith('data:')) continue;
      const data = line.slice(5).trim();
      if (data === '[DONE]') continue;
      const frame = JSON.parse(data);
      if (frame.type === 'text-delta') out.textContent += frame.text;
      else if (frame.type === 'finish') conversationId = frame.metadata && frame.metadata.conversationId || conversationId;
      else if (frame.type === 'error') out.textContent += ' [' + frame.errorText + ']';
    }
    log.scrollTop = log.scrollHeight;
  }

  async function send(message) {
    turn('you', message);
    const out = turn('agent', '');
    pending = [{ who: 'you', text: message }];
    const body = { message, stream: true };
    if (conversationId) body.conversationId = conversationId;
    const res = await fetch('/chat', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (res.status === 401) return void (location.href = '/login?returnTo=%2Fchat&reason=expired');
    if (!res.ok) {
      const err = await res.json().catch(() => ({}));
      out.textContent = '[' + (err.message || res.statusText) + ']';
      return;
    }
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.indexOf('\\n\\n')) !== -1) {
        render(buffer.slice(0, end), out);
        buffer = buffer.slice(end + 2);
      }
    }
    pending.push({ who: 'agent', text: out.textContent });
    remember();
    loadHistory();
  }

  async function loadHistory() {
    const res = await fetch('/chat/conversations');
    if (!res.ok) return;
    const list = document.getElementById('history');
    list.replaceChildren();
    for (const c of (await res.json()).conversations) {
      const li = document.createElement('li');
      const a = document.createElement('a');
      a.href = '#';
      a.textContent = (c.title || 'Conversation ' + c.id) + (c.id === conversationId ? ' (current)' : '');
      a.dataset.conversation = c.id;
      a.onclick = (e) => { e.preventDefault(); show(c.id, c.title || 'Conversation ' + c.id); };
      li.append(a);
      list.append(li);
    }
  }

  document.getElementById('send').addEventListener('submit', (e) => {
    e.preventDefault();
    const message = input.value.trim();
    if (!message) return;
    input.value = '';
    send(message).catch((err) => turn('agent', '[' + err.message + ']'));
  });
  document.getElementById('new').onclick = () => { conversationId = null; log.replaceChildren(); loadHistory(); };
  document.getElementById('logout').closest('form').addEventListener('submit', () => sessionStorage.removeItem(STORE));
  loadHistory();
</script>`,
  );
}
