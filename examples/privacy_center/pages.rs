//! HTML of the privacy center. Every value that reaches a page goes through [`esc`]; the
//! pages carry no script at all (the Content-Security-Policy set in `main.rs` forbids it).

use std::fmt::Write as _;

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use crm_privacy::gpc::GpcOutcome;

/// HTML-escapes text for element content and double- or single-quoted attributes.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `Alice Example` → `A••• E•••` (initials).
pub(crate) fn mask_name(name: &str) -> String {
    name.split_whitespace()
        .map(|w| format!("{}•••", w.chars().take(1).collect::<String>()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A consent scope as the page shows it.
pub(crate) struct ConsentRow {
    /// Scope name (form value).
    pub(crate) scope: &'static str,
    /// Policy clause.
    pub(crate) clause: &'static str,
    /// What it allows, in the page's words.
    pub(crate) what: &'static str,
    /// In force.
    pub(crate) on: bool,
}

/// One read the page tried for a consent-based purpose, and the custodian's answer.
pub(crate) struct Check {
    /// Element id.
    pub(crate) id: &'static str,
    /// What the read is for.
    pub(crate) what: &'static str,
    /// The scope it needs.
    pub(crate) needs: &'static str,
    /// `Ok(what was read)` or `Err(the refusal)`.
    pub(crate) outcome: Result<String, String>,
}

/// A data-subject request as the page shows it.
pub(crate) struct RequestRow {
    /// Kind name.
    pub(crate) kind: &'static str,
    /// State.
    pub(crate) state: &'static str,
    /// Received (date).
    pub(crate) received: String,
    /// Due (date).
    pub(crate) due: String,
}

/// Everything the signed-in page shows.
pub(crate) struct Dashboard {
    /// Login name.
    pub(crate) login: String,
    /// The session's CSRF token.
    pub(crate) csrf: String,
    /// Masked profile fields: label, element id, masked value or refusal.
    pub(crate) fields: Vec<(&'static str, &'static str, Result<String, String>)>,
    /// Consents.
    pub(crate) consents: Vec<ConsentRow>,
    /// Consent-based reads tried now.
    pub(crate) checks: Vec<Check>,
    /// The subject's requests.
    pub(crate) requests: Vec<RequestRow>,
    /// A GPC signal on this request, applied.
    pub(crate) gpc: Option<GpcOutcome>,
    /// A fixed notice after a form.
    pub(crate) notice: Option<&'static str>,
}

const STYLE: &str = "body{font-family:sans-serif;max-width:52rem;margin:1.5rem auto;padding:0 1rem;color:#1d2330}\
h1{font-size:1.5rem}h2{font-size:1.1rem;margin-top:1.6rem;border-bottom:1px solid #dde}\
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #eef}\
.ok{color:#17662f}.no{color:#a1261b}.note{color:#555;font-size:.85rem}\
.banner{background:#eef6ff;border:1px solid #9cc3ef;padding:.6rem .8rem;margin:.8rem 0}\
.gpc{background:#effaf0;border-color:#8fcf98}button{cursor:pointer}form.inline{display:inline}";

fn layout(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <meta name=\"viewport\" content=\"width=device-width\"><style>{STYLE}</style></head>\
         <body>{body}</body></html>",
        esc(title)
    )
}

/// The sign-in page.
pub(crate) fn login(failed: bool, demo: &[(&str, &str)]) -> Html<String> {
    let mut body = String::from("<h1>Privacy center</h1><h2>Sign in</h2>");
    if failed {
        body.push_str("<p class=\"no\" id=\"login-failed\">Sign-in failed.</p>");
    }
    body.push_str(
        "<form method=\"post\" action=\"/login\">\
         <p><label>Login <input name=\"login\" id=\"login\" autocomplete=\"username\"></label></p>\
         <p><label>Password <input name=\"password\" id=\"password\" type=\"password\" \
         autocomplete=\"current-password\"></label></p>\
         <p><button id=\"sign-in\">Sign in</button></p></form><p class=\"note\">Demo logins: ",
    );
    let logins: Vec<String> = demo
        .iter()
        .map(|(l, p)| format!("<code>{}</code> / <code>{}</code>", esc(l), esc(p)))
        .collect();
    body.push_str(&logins.join(", "));
    body.push_str("</p>");
    Html(layout("Sign in — privacy center", &body))
}

fn outcome(o: &Result<String, String>) -> (&'static str, &'static str, String) {
    match o {
        Ok(v) => ("ok", "allowed", esc(v)),
        Err(e) => ("no", "refused", esc(e)),
    }
}

fn hidden_csrf(csrf: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        esc(csrf)
    )
}

/// The signed-in page.
pub(crate) fn dashboard(d: &Dashboard) -> Html<String> {
    let csrf = hidden_csrf(&d.csrf);
    let mut b = String::new();
    let _ = write!(
        b,
        "<h1>Privacy center</h1><div>Signed in as <strong id=\"who\">{}</strong>. \
         <form class=\"inline\" method=\"post\" action=\"/logout\">{csrf}\
         <button id=\"sign-out\">Sign out</button></form></div>",
        esc(&d.login)
    );
    if let Some(n) = d.notice {
        let _ = write!(b, "<p class=\"banner\" id=\"notice\">{}</p>", esc(n));
    }
    if let Some(g) = &d.gpc {
        let list = |v: &[&str]| {
            if v.is_empty() {
                "none".to_owned()
            } else {
                esc(&v.join(", "))
            }
        };
        let _ = write!(
            b,
            "<div class=\"banner gpc\" id=\"gpc\" data-withdrawn=\"{w}\" data-refused=\"{r}\" \
             data-unchanged=\"{u}\"><strong>Global Privacy Control honoured.</strong> Your \
             browser sent <code>Sec-GPC: 1</code>; it was recorded as your opt-out in the \
             consent ledger. Consent withdrawn: {w}. Recorded as refused: {r}. Opted out by an \
             earlier signal: {u}.</div>",
            w = list(&g.withdrawn),
            r = list(&g.refused),
            u = list(&g.unchanged),
        );
    }

    b.push_str(
        "<h2>Your data</h2><p class=\"note\">Shown masked. Email and phone are the SDK's masked \
         views (the full value never leaves the custodian); the name shows your initials.</p><table>",
    );
    for (label, id, v) in &d.fields {
        let (class, _, text) = outcome(v);
        let _ = write!(
            b,
            "<tr><th>{}</th><td class=\"{class}\" id=\"{id}\">{text}</td></tr>",
            esc(label)
        );
    }
    b.push_str("</table>");

    b.push_str(
        "<h2>Your consents</h2><table><tr><th>Consent</th><th>Clause</th><th>State</th><th></th></tr>",
    );
    for c in &d.consents {
        let (state, action, label) = if c.on {
            ("on", "off", "Turn off")
        } else {
            ("off", "on", "Turn on")
        };
        let _ = write!(
            b,
            "<tr><td>{what}</td><td>{clause}</td>\
             <td id=\"consent-{scope}\" data-state=\"{state}\">{state}</td><td>\
             <form class=\"inline\" method=\"post\" action=\"/consent\">{csrf}\
             <input type=\"hidden\" name=\"scope\" value=\"{scope}\">\
             <input type=\"hidden\" name=\"action\" value=\"{action}\">\
             <button id=\"toggle-{scope}\">{label}</button></form></td></tr>",
            what = esc(c.what),
            clause = esc(c.clause),
            scope = esc(c.scope),
        );
    }
    b.push_str("</table>");

    b.push_str(
        "<h2>What the service may do right now</h2><p class=\"note\">Each line is a read the \
         service tried for this page, for a purpose that rests on your consent. A withdrawn \
         consent refuses the next read at once.</p><table>",
    );
    for c in &d.checks {
        let (class, verdict, text) = outcome(&c.outcome);
        let _ = write!(
            b,
            "<tr><td>{what}<br><span class=\"note\">needs: {needs}</span></td>\
             <td class=\"{class}\" id=\"{id}\" data-outcome=\"{verdict}\">{verdict}: {text}</td></tr>",
            what = esc(c.what),
            needs = esc(c.needs),
            id = c.id,
        );
    }
    b.push_str("</table>");

    let _ = write!(
        b,
        "<h2>Your data, to take with you</h2><form method=\"post\" action=\"/export\">{csrf}\
         <button id=\"export\">Download my data (JSON)</button></form>"
    );

    let _ = write!(
        b,
        "<h2>Requests</h2><form method=\"post\" action=\"/requests\">{csrf}\
         <label><input type=\"radio\" name=\"kind\" value=\"erase\" id=\"kind-erase\" checked> \
         Erase my data (clause 6.2)</label><br>\
         <label><input type=\"radio\" name=\"kind\" value=\"restrict\" id=\"kind-restrict\"> \
         Restrict processing (clause 9.1)</label><br>\
         <button id=\"file-request\">Send request</button></form>"
    );
    if d.requests.is_empty() {
        b.push_str("<p class=\"note\" id=\"no-requests\">No requests yet.</p>");
    } else {
        b.push_str(
            "<table id=\"requests\"><tr><th>Request</th><th>State</th><th>Received</th><th>Due by</th></tr>",
        );
        for r in &d.requests {
            let _ = write!(
                b,
                "<tr class=\"request\" data-kind=\"{k}\" data-due=\"{due}\"><td>{k}</td><td>{s}</td>\
                 <td>{rec}</td><td class=\"due\">{due}</td></tr>",
                k = esc(r.kind),
                s = esc(r.state),
                rec = esc(&r.received),
                due = esc(&r.due),
            );
        }
        b.push_str("</table>");
    }
    Html(layout("Privacy center", &b))
}

/// An error page; `message` is a custodian error's text (which never holds personal data)
/// or a fixed one.
pub(crate) fn error(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<h1>Privacy center</h1><p class=\"no\" id=\"error\">{}</p><p><a href=\"/\">Back</a></p>",
        esc(message)
    );
    (status, Html(layout("Error — privacy center", &body))).into_response()
}
