import { useEffect, useState } from 'preact/hooks';
import { ApiError, api } from '../api.js';
import { ErrorNote } from '../load.js';
import { BASE, navigate } from '../router.js';

const SEVERITIES = ['critical', 'high', 'medium', 'low'];
const TLPS = ['WHITE', 'GREEN', 'AMBER', 'RED'];

/** The staff editor of a new advisory: the fields of its content, and the body previewed as the page will show it. */
export function AdvisoryEditorPage() {
  const [body, setBody] = useState('');
  const [preview, setPreview] = useState('');
  const [error, setError] = useState<ApiError>();
  useEffect(() => {
    const timer = setTimeout(() => {
      api<{ html: string }>('POST', '/api/v1/advisories/preview', { markdown: body }).then(
        (answer) => setPreview(answer.html),
        (failure: unknown) => failure instanceof ApiError && setError(failure),
      );
    }, 250);
    return () => clearTimeout(timer);
  }, [body]);
  const save = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    const lines = (name: string) =>
      String(form.get(name) ?? '')
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
    const products = lines('products').map((line) => {
      const [packId = '', appId = ''] = line.split(':').map((part) => part.trim());
      return { packId, appId };
    });
    try {
      await api('POST', '/api/v1/advisories', {
        content: {
          title: form.get('title'),
          severity: form.get('severity'),
          tlp: form.get('tlp'),
          status: form.get('status'),
          summary: form.get('summary'),
          body,
          remediation: lines('remediation'),
          ...(products.length ? { products } : {}),
        },
      });
      navigate(`${BASE}advisories`);
    } catch (failure) {
      if (failure instanceof ApiError) setError(failure);
    }
  };
  return (
    <>
      <h1>New advisory</h1>
      <p class="muted">Saved as a draft that only staff see; publish it from the list.</p>
      <form onSubmit={save} class="editor">
        <label>
          Title
          <input name="title" required maxLength={300} />
        </label>
        <div class="filters">
          <label>
            Severity
            <select name="severity" value="critical">
              {SEVERITIES.map((s) => (
                <option key={s}>{s}</option>
              ))}
            </select>
          </label>
          <label>
            TLP
            <select name="tlp" value="WHITE">
              {TLPS.map((t) => (
                <option key={t}>{t}</option>
              ))}
            </select>
          </label>
          <label>
            Status
            <select name="status" value="interim">
              <option>interim</option>
              <option>final</option>
            </select>
          </label>
        </div>
        <label>
          Summary (one paragraph)
          <textarea name="summary" rows={2} required maxLength={2000} />
        </label>
        <label>
          Body (Markdown)
          <textarea
            name="body"
            rows={10}
            value={body}
            onInput={(e) => setBody((e.target as HTMLTextAreaElement).value)}
          />
        </label>
        <section aria-labelledby="preview-title" class="preview">
          <h2 id="preview-title">Preview</h2>
          {/* The hub renders the Markdown inert, as on the published page. */}
          <div class="markdown" aria-live="polite" dangerouslySetInnerHTML={{ __html: preview }} />
        </section>
        <label>
          Remediation steps (Markdown, one per line)
          <textarea name="remediation" rows={3} />
        </label>
        <label>
          Affected products (packId:appId, one per line, from a pack stored at the hub)
          <textarea name="products" rows={2} />
        </label>
        {error && <ErrorNote error={error} />}
        <button type="submit">Save the draft</button>
      </form>
    </>
  );
}
