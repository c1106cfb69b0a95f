//! One module per screen. Each has a view component that draws only from its props (what the
//! component tests render with fixture data) and a `...Screen` component that loads those props
//! from the store thread and turns taps into typed store calls.

pub mod add_resident;
pub mod commitment;
pub mod correct_resident;
pub mod edit_household;
pub mod home;
pub mod household;
pub mod households;
pub mod issues;
pub mod orders;
pub mod party;
pub mod register_household;
pub mod report;
pub mod service;
pub mod settings;
pub mod signin;
pub mod visit;

#[cfg(test)]
pub(crate) mod fixtures;
