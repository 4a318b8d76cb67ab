//! The handlers: each one reads the form, calls the custodian and renders. No rule lives
//! here: who may read what, consent, the request desk's deadlines and GPC are the SDK's.

use axum::Form;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use crm_privacy::consent::{CollectionMethod, ConsentScope};
use crm_privacy::custodian::CustodianError;
use crm_privacy::dsr::{DsrKind, DsrState};
use crm_privacy::{
    Authentication, CookiePreference, Email, Google, OwnerAccess, PersonName, Phone, Preferences,
    ProviderAccountId,
};
use serde::Deserialize;

use crate::directory::DEMO_LOGINS;
use crate::pages::{self, Check, ConsentRow, Dashboard, RequestRow};
use crate::session::{self, App, Signed};

/// The consents the page offers, with the page's words for them.
const OFFERED: &[(ConsentScope, &str)] = &[
    (
        ConsentScope::GoogleLink,
        "Sign in with your linked Google account",
    ),
    (
        ConsentScope::Cookies,
        "Remember your language and form drafts in cookies",
    ),
    (
        ConsentScope::ZoomLink,
        "Create Zoom conferences from your account",
    ),
    (
        ConsentScope::ContactsImport,
        "Import contacts from your device",
    ),
];

/// Fixed notices after a form (the query names one; nothing else is reflected).
const NOTICES: &[(&str, &str)] = &[
    ("consent-on", "Consent given."),
    (
        "consent-off",
        "Consent withdrawn. It took effect at once: see the reads below.",
    ),
    (
        "request-filed",
        "Request received and verified with your session; its due date is below.",
    ),
];

/// The routes.
pub(crate) fn router(app: App) -> Router {
    Router::new()
        .route("/", get(dashboard))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/consent", post(consent))
        .route("/export", post(export))
        .route("/requests", post(request))
        .with_state(app)
}

fn fail(e: &CustodianError) -> Response {
    pages::error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string())
}

fn forbidden() -> Response {
    pages::error(
        StatusCode::FORBIDDEN,
        "the form was refused (stale or foreign)",
    )
}

#[derive(Deserialize)]
struct LoginQuery {
    failed: Option<String>,
}

async fn login_page(Query(q): Query<LoginQuery>) -> Response {
    pages::login(q.failed.is_some(), DEMO_LOGINS).into_response()
}

#[derive(Deserialize)]
struct LoginForm {
    login: String,
    password: String,
}

async fn login(State(app): State<App>, headers: HeaderMap, Form(f): Form<LoginForm>) -> Response {
    if !app.same_origin(&headers) {
        return forbidden();
    }
    match app.sign_in(&f.login, &f.password).await {
        Some(cookie) => ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response(),
        None => Redirect::to("/login?failed=1").into_response(),
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

/// The CSRF and origin checks every signed-in form passes.
fn checked(app: &App, headers: &HeaderMap, s: &Signed, csrf: &str) -> bool {
    app.same_origin(headers) && app.csrf_ok(&s.credential, csrf)
}

async fn logout(
    State(app): State<App>,
    headers: HeaderMap,
    s: Signed,
    Form(f): Form<CsrfForm>,
) -> Response {
    if !checked(&app, &headers, &s, &f.csrf) {
        return forbidden();
    }
    app.logins.remove(&s.credential);
    let clear = format!(
        "{}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0",
        session::COOKIE
    );
    ([(header::SET_COOKIE, clear)], Redirect::to("/login")).into_response()
}

#[derive(Deserialize)]
struct NoticeQuery {
    notice: Option<String>,
}

async fn dashboard(State(app): State<App>, s: Signed, Query(q): Query<NoticeQuery>) -> Response {
    match render(&app, s, q.notice.as_deref()).await {
        Ok(r) => r,
        Err(e) => fail(&e),
    }
}

async fn render(app: &App, s: Signed, notice: Option<&str>) -> Result<Response, CustodianError> {
    let crm = &app.crm;
    let a = &s.account;
    let subject = s.session.subject();

    // The subject's own data, masked by the SDK's masked views (`with_masked`: the table
    // declares them; the full value never leaves the custodian). A name has no masked view:
    // the page shows initials from the owner's own read.
    let own = crm.grant_owner(&s.session).await?;
    let shown = |r: Result<String, CustodianError>| r.map_err(|e| e.to_string());
    let mut fields = vec![
        (
            "Name",
            "masked-name",
            shown(
                crm.with(&own, a.name, |n: &PersonName| pages::mask_name(n.as_str()))
                    .await,
            ),
        ),
        (
            "Email",
            "masked-email",
            shown(
                crm.with_masked::<Email, OwnerAccess, _>(&own, a.email, |m| m.as_str().to_owned())
                    .await,
            ),
        ),
    ];
    if let Some(phone) = a.phone {
        fields.push((
            "Phone",
            "masked-phone",
            shown(
                crm.with_masked::<Phone, OwnerAccess, _>(&own, phone, |m| m.as_str().to_owned())
                    .await,
            ),
        ));
    }

    let in_force = crm.consents(subject).await?;
    let consents = OFFERED
        .iter()
        .map(|&(scope, what)| ConsentRow {
            scope: scope.name(),
            clause: scope.clause(),
            what,
            on: in_force.iter().any(|(s, _)| *s == scope),
        })
        .collect();

    // Reads for purposes that rest on consent, tried now with fresh grants of this session.
    let language = async {
        let grant = crm.grant_for_session::<Preferences>(&s.session).await?;
        match a.prefs {
            Some(r) => {
                crm.with(&grant, r, |p: &CookiePreference| {
                    format!("language {}", p.language().unwrap_or("not set"))
                })
                .await
            }
            None => Ok("nothing stored".to_owned()),
        }
    }
    .await;
    let google = async {
        let grant = crm.grant_for_session::<Authentication>(&s.session).await?;
        match a.google {
            Some(r) => {
                crm.with(&grant, r, |_: &ProviderAccountId<Google>| {
                    "linked account read for sign-in".to_owned()
                })
                .await
            }
            None => Ok("no account linked".to_owned()),
        }
    }
    .await;
    let checks = vec![
        Check {
            id: "check-preferences",
            what: "Remember your language (clause 3.6)",
            needs: "cookies",
            outcome: shown(language),
        },
        Check {
            id: "check-authentication",
            what: "Sign you in with Google (clause 3.3)",
            needs: "google_link",
            outcome: shown(google),
        },
    ];

    let desk = crm.dsr_desk().await?;
    let requests = desk
        .requests()
        .iter()
        .filter(|r| r.subject == subject)
        .map(|r| RequestRow {
            kind: r.kind.name(),
            state: match r.state {
                DsrState::Received => "received",
                DsrState::Verified => "verified, in progress",
                DsrState::Fulfilling => "being carried out",
                DsrState::Fulfilled => "fulfilled",
                DsrState::Refused(_) => "refused",
            },
            received: r.received_at.format("%Y-%m-%d").to_string(),
            due: r
                .due()
                .map_or_else(String::new, |d| d.format("%Y-%m-%d").to_string()),
        })
        .collect();

    let notice = notice.and_then(|n| NOTICES.iter().find(|(k, _)| *k == n).map(|(_, t)| *t));
    Ok(pages::dashboard(&Dashboard {
        login: a.login.clone(),
        csrf: s.csrf,
        fields,
        consents,
        checks,
        requests,
        gpc: s.gpc,
        notice,
    })
    .into_response())
}

#[derive(Deserialize)]
struct ConsentForm {
    csrf: String,
    scope: String,
    action: String,
}

async fn consent(
    State(app): State<App>,
    headers: HeaderMap,
    s: Signed,
    Form(f): Form<ConsentForm>,
) -> Response {
    if !checked(&app, &headers, &s, &f.csrf) {
        return forbidden();
    }
    let Some(&(scope, _)) = OFFERED.iter().find(|(sc, _)| sc.name() == f.scope) else {
        return pages::error(StatusCode::BAD_REQUEST, "unknown consent");
    };
    let done = match f.action.as_str() {
        "on" => app
            .crm
            .give_consent(
                &s.session,
                scope,
                CollectionMethod::UiAction,
                Some("ui:privacy-center-toggle"),
            )
            .await
            .map(|_| "consent-on"),
        "off" => app
            .crm
            .withdraw_consent(s.session.subject(), scope)
            .await
            .map(|_| "consent-off"),
        _ => return pages::error(StatusCode::BAD_REQUEST, "unknown action"),
    };
    match done {
        Ok(n) => Redirect::to(&format!("/?notice={n}")).into_response(),
        Err(e) => fail(&e),
    }
}

async fn export(
    State(app): State<App>,
    headers: HeaderMap,
    s: Signed,
    Form(f): Form<CsrfForm>,
) -> Response {
    if !checked(&app, &headers, &s, &f.csrf) {
        return forbidden();
    }
    let json = async {
        let own = app.crm.grant_owner(&s.session).await?;
        let export = app.crm.export(&own).await?;
        export
            .to_json()
            .map_err(|_| CustodianError::Config("export rendering"))
    }
    .await;
    match json {
        Ok(body) => (
            [
                (header::CONTENT_TYPE, "application/json; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"my-data.json\"",
                ),
            ],
            body,
        )
            .into_response(),
        Err(e) => fail(&e),
    }
}

#[derive(Deserialize)]
struct RequestForm {
    csrf: String,
    kind: String,
}

async fn request(
    State(app): State<App>,
    headers: HeaderMap,
    s: Signed,
    Form(f): Form<RequestForm>,
) -> Response {
    if !checked(&app, &headers, &s, &f.csrf) {
        return forbidden();
    }
    let kind = match f.kind.as_str() {
        "erase" => DsrKind::Erase,
        "restrict" => DsrKind::Restrict,
        _ => return pages::error(StatusCode::BAD_REQUEST, "unknown request"),
    };
    // Intake, then the identity check with this very session: the desk's two steps.
    let filed = async {
        let r = app.crm.dsr_receive(s.session.subject(), kind).await?;
        app.crm.dsr_verify(r.id, &s.session).await
    }
    .await;
    match filed {
        Ok(_) => Redirect::to("/?notice=request-filed").into_response(),
        Err(e) => fail(&e),
    }
}
