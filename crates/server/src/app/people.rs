//! The office's people: registering a field worker, a new password, a lost phone's device
//! revoked — each checked against the caller's grids and written to the audit log in the same
//! transaction — and the one sign-in check both faces use.

use super::state::AppState;
use crate::auth;
use crate::error::ApiError;
use crate::store::office;
use crate::store::{Backend, Principal, ServerStore, StoreError, UserRow, admin};
use gridmate_model::Role;
use uuid::Uuid;

/// Only the community office administers people; the street reads, a grid leader leads.
pub fn must_administer(p: &Principal) -> Result<(), ApiError> {
    if p.has(Role::CommunityAdmin) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "only the community office manages people and devices".into(),
        ))
    }
}

/// Revoke one device of one of the office's people, and note it.
pub async fn revoke_device(
    state: &AppState,
    p: Principal,
    user: Uuid,
    device: String,
) -> Result<usize, ApiError> {
    must_administer(&p)?;
    state
        .store
        .write(move |tx| {
            if !office::people(tx, &p, None)?.iter().any(|m| m.id == user) {
                return Err(StoreError::Invalid("not one of your people".into()));
            }
            let n = admin::revoke_device(tx, user, &device)?;
            admin::audit(tx, p.user_id, "revoke_device", &user.to_string(), &device)?;
            Ok(n)
        })
        .await
        .map_err(Into::into)
}

/// Give one of the office's people a new password, and note it (never the password).
pub async fn reset_password(
    state: &AppState,
    p: Principal,
    user: Uuid,
    password: String,
) -> Result<(), ApiError> {
    must_administer(&p)?;
    // Argon2 runs inside the write transaction's blocking thread, off the async threads.
    state
        .store
        .write(move |tx| {
            if !office::people(tx, &p, None)?.iter().any(|m| m.id == user) {
                return Err(StoreError::Invalid("not one of your people".into()));
            }
            admin::reset_password(tx, user, &password)?;
            admin::audit(tx, p.user_id, "reset_password", &user.to_string(), "")
        })
        .await
        .map_err(Into::into)
}

/// A new person the office registers: a field role, the grids (or, for a building leader, the
/// buildings) they serve, and a first password they change on the phone.
pub struct NewPerson {
    pub name: String,
    pub phone: String,
    pub role: Role,
    pub grids: Vec<Uuid>,
    pub buildings: Vec<Uuid>,
    pub password: String,
}

/// Register a person within the office's own grids, and note it.
pub async fn add_person(state: &AppState, p: Principal, n: NewPerson) -> Result<Uuid, ApiError> {
    must_administer(&p)?;
    if matches!(n.role, Role::CommunityAdmin | Role::StreetViewer) {
        return Err(ApiError::Forbidden(
            "office accounts are made by the server's operator".into(),
        ));
    }
    // A resident is nobody's account to make: they sign themselves in on the resident page.
    if n.role == Role::Resident {
        return Err(ApiError::Forbidden(
            "residents sign themselves in on the resident page".into(),
        ));
    }
    state
        .store
        .write(move |tx| {
            let phone = gridmate_model::validate::phone(&n.phone)
                .map_err(|e| StoreError::Invalid(e.to_string()))?;
            let name = gridmate_model::validate::text(
                "name",
                &n.name,
                gridmate_model::validate::limits::NAME,
                true,
            )
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
            if n.grids.is_empty() && n.buildings.is_empty() {
                return Err(StoreError::Invalid(
                    "choose a grid (or a building) for them".into(),
                ));
            }
            if let Some(g) = n.grids.iter().find(|g| !p.grids.contains(g)) {
                return Err(StoreError::Invalid(format!("grid {g} is not yours")));
            }
            let mut places: Vec<(Option<Uuid>, Option<Uuid>)> =
                n.grids.iter().map(|g| (Some(*g), None)).collect();
            for b in &n.buildings {
                let grid = tx
                    .record(gridmate_protocol::Entity::Building, *b)?
                    .and_then(|r| r.grid_id)
                    .filter(|g| p.grids.contains(g))
                    .ok_or_else(|| {
                        StoreError::Invalid(format!("building {b} is not in your grids"))
                    })?;
                places.push((Some(grid), Some(*b)));
            }
            let id = Uuid::now_v7();
            admin::add_user(tx, id, &phone, &name, &[n.role], &n.password)?;
            for (grid, building) in places {
                admin::assign(tx, &phone, n.role, grid, building)?;
            }
            admin::audit(
                tx,
                p.user_id,
                "add_person",
                &id.to_string(),
                &format!("{name} {}", n.role.code()),
            )?;
            Ok(id)
        })
        .await
        .map_err(Into::into)
}
/// The one sign-in check, for phones and the office console: the login limiter (per phone and
/// per address, counted in the database so every server process sees the same), then Argon2id
/// off the async threads.
pub async fn check_credentials(
    state: &AppState,
    phone: &str,
    password: &str,
    ip: std::net::IpAddr,
) -> Result<UserRow, ApiError> {
    let phone_key = format!("phone:{}", phone.trim());
    let keys = [phone_key.clone(), format!("addr:{ip}")];
    if let Some(retry_after_s) = state.store.login_blocked(keys.to_vec()).await? {
        return Err(ApiError::RateLimited { retry_after_s });
    }
    let user = state.store.user_by_phone(phone.trim().to_string()).await?;
    let password = password.to_string();
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    // Argon2 takes tens of milliseconds of CPU: off the async threads. An unknown phone is
    // checked against a dummy hash so the answer takes as long either way.
    let ok = tokio::task::spawn_blocking(move || match stored {
        Some(h) => auth::verify_password(&password, &h),
        None => {
            auth::verify_password(&password, &DUMMY_HASH);
            false
        }
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    let Some(user) = user.filter(|_| ok) else {
        state.store.login_failed(keys.to_vec()).await?;
        state.metrics.login_failed();
        tracing::info!(addr = %ip, "login refused");
        return Err(ApiError::Unauthorized {
            code: "bad_credentials",
            message: "wrong phone number or password".into(),
        });
    };
    state.store.login_succeeded(phone_key).await?;
    Ok(user)
}

/// An Argon2id hash of nothing anyone knows, so unknown phones cost the same time as known ones.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| auth::hash_password("no such user").unwrap_or_default());
