//! Benign activity: each principal's calls for one account and day, from its schedule,
//! repertoire and regions, with throttling and access-denied noise.

use super::event::{ErrorKind, Event};
use super::org::{ENABLED_REGIONS, ROLLOUT_REGION, US_EAST_1};
use super::principals::{
    APP_DEPLOY_APIS, APP_ROLE, Api, BACKUP_ROLE, IdentityKind, MONITORING_ROLE, PEOPLE, PrincipalDef, RegionUse, Schedule, SessionStyle,
};
use super::rng::Rng;

const HOUR: i64 = 3_600_000;
const MINUTE: i64 = 60_000;

/// Everything the generators share: fixed for a run.
#[derive(Debug, Clone)]
pub struct World {
    pub seed: u64,
    /// Epoch ms of day 0, 00:00 UTC.
    pub start: i64,
    pub days: u32,
    pub scale: f64,
    pub org: super::org::Org,
    pub catalogue: Vec<PrincipalDef>,
    /// The deploy that gives the app role new APIs (benign novelty), if scheduled.
    pub deploy_day: Option<u32>,
    /// The day ROLLOUT_REGION goes live for the app and monitoring roles.
    pub rollout_day: Option<u32>,
    /// `(account, day)` whose nightly backup does not run (an attack-like gap).
    pub skipped_backup: Option<(usize, u32)>,
}

impl World {
    pub fn day_start(&self, day: u32) -> i64 {
        self.start + i64::from(day) * 24 * HOUR
    }

    /// Whether `account` exists on `day`.
    pub fn active(&self, account: usize, day: u32) -> bool {
        day >= self.org.accounts[account].joined_day
    }
}

/// 0 = Sunday … 6 = Saturday.
pub(crate) fn weekday(ms: i64) -> u32 {
    ((ms.div_euclid(24 * HOUR) + 4).rem_euclid(7)) as u32
}

/// Appends the benign events of one account and day; returns how many principals were active.
pub(crate) fn day_events(w: &World, account: usize, day: u32, out: &mut Vec<Event>) -> u64 {
    if !w.active(account, day) {
        return 0;
    }
    let mut rng = Rng::keyed(&[w.seed, 0xba5e, account as u64, u64::from(day)]);
    let t0 = w.day_start(day);
    let weekend = matches!(weekday(t0), 0 | 6);
    let mut active = 0;
    for (pi, def) in w.catalogue.iter().enumerate() {
        if def.schedule == Schedule::Dormant || !account.is_multiple_of(def.every_nth_account) {
            continue;
        }
        if def.name == BACKUP_ROLE && w.skipped_backup == Some((account, day)) {
            continue;
        }
        let repertoire: Vec<(Api, u32)> = match w.deploy_day {
            Some(d) if def.name == APP_ROLE && day > d => def.repertoire.iter().chain(APP_DEPLOY_APIS).copied().collect(),
            _ => def.repertoire.to_vec(),
        };
        let total_weight: u32 = repertoire.iter().map(|(_, wt)| wt).sum();
        let rollout = w.rollout_day.is_some_and(|d| day > d) && (def.name == APP_ROLE || def.name == MONITORING_ROLE);
        let regions = regions_of(w, def, account, rollout);
        let before = out.len();
        let emit = |rng: &mut Rng, time: i64, person: u8, out: &mut Vec<Event>| {
            let api = pick_api(rng, &repertoire, total_weight);
            let region = if api.is_global() { US_EAST_1 } else { pick_region(rng, &regions) };
            let error = if rng.chance(def.throttle_rate) {
                Some(ErrorKind::Throttled)
            } else if rng.chance(def.deny_rate) {
                Some(ErrorKind::Denied)
            } else {
                None
            };
            out.push(Event {
                time,
                id: rng.uuid(),
                account: account as u16,
                region,
                principal: pi as u16,
                person,
                api,
                error,
                extra: None,
            });
        };
        let mean = def.per_day * w.scale * if weekend { 0.8 } else { 1.0 };
        match def.schedule {
            Schedule::Service => {
                for h in 0..24 {
                    // Busiest around 15:00 UTC, quietest around 03:00.
                    let shape = 1.0 + 0.45 * (std::f64::consts::TAU * (h as f64 - 9.0) / 24.0).sin();
                    for _ in 0..rng.count(mean / 24.0 * shape) {
                        let t = t0 + h * HOUR + rng.below(HOUR as u64) as i64;
                        let person = rng.below(8) as u8;
                        emit(&mut rng, t, person, out);
                    }
                }
            }
            Schedule::Every5Min => {
                for tick in 0..288 {
                    for _ in 0..rng.count(def.per_day * w.scale / 288.0) {
                        let t = t0 + tick * 5 * MINUTE + 1_000 + rng.below(25_000) as i64;
                        emit(&mut rng, t, 0, out);
                    }
                }
            }
            Schedule::Nightly { hour, minutes } => {
                let begin = t0 + i64::from(hour) * HOUR + rng.below(4 * MINUTE as u64) as i64;
                for _ in 0..rng.count(def.per_day * w.scale) {
                    let t = begin + rng.below(u64::from(minutes) * MINUTE as u64) as i64;
                    emit(&mut rng, t, 0, out);
                }
            }
            Schedule::Office if matches!(def.kind, IdentityKind::Role { session: SessionStyle::Email, .. }) => {
                let admin = def.name.contains("Administrator");
                let people: Vec<usize> = (0..PEOPLE.len()).filter(|&i| PEOPLE[i].2 == admin).collect();
                for &p in &people {
                    // Each person works in most accounts, not all; rarely at weekends.
                    let works_here = !super::rng::mix(&[w.seed, p as u64, account as u64]).is_multiple_of(5);
                    if !works_here || !rng.chance(if weekend { 0.05 } else { 0.85 }) {
                        continue;
                    }
                    let start = t0 + i64::from(PEOPLE[p].1) * HOUR;
                    let n = rng.count(mean / people.len() as f64);
                    // Work comes in a few sessions of clustered calls.
                    let sessions = 1 + rng.below(4) as i64;
                    for s in 0..sessions {
                        let centre = start + rng.below(9 * HOUR as u64) as i64;
                        let share = n / sessions as u64 + u64::from((s as u64) < n % sessions as u64);
                        for _ in 0..share {
                            let t = centre + rng.below(25 * MINUTE as u64) as i64;
                            emit(&mut rng, t, p as u8, out);
                        }
                    }
                }
            }
            Schedule::Office => {
                if weekend {
                    continue;
                }
                // Deploys: a few bursts between 13:00 and 22:00 UTC.
                let n = rng.count(mean);
                let bursts = 1 + rng.below(5);
                for b in 0..bursts {
                    let centre = t0 + 13 * HOUR + rng.below(9 * HOUR as u64) as i64;
                    for _ in 0..n / bursts + u64::from(b < n % bursts) {
                        let t = centre + rng.below(6 * MINUTE as u64) as i64;
                        emit(&mut rng, t, 0, out);
                    }
                }
            }
            Schedule::Dormant => {}
        }
        active += u64::from(out.len() > before);
    }
    // Nothing after the end of the day spills into the next one: the writer relies on it.
    let end = t0 + 24 * HOUR - 1;
    for e in out.iter_mut() {
        e.time = e.time.min(end);
    }
    active
}

fn regions_of(w: &World, def: &PrincipalDef, account: usize, rollout: bool) -> Vec<(u8, u32)> {
    let acct = &w.org.accounts[account];
    let mut r = match def.regions {
        RegionUse::Home => vec![(US_EAST_1, 1)],
        RegionUse::Enabled => ENABLED_REGIONS.iter().map(|&r| (r, 1)).collect(),
        RegionUse::Workload => acct.workload_regions.iter().enumerate().map(|(i, &r)| (r, if i == 0 { 3 } else { 1 })).collect(),
    };
    if rollout {
        r.push((ROLLOUT_REGION, 1));
    }
    r
}

fn pick_api(rng: &mut Rng, repertoire: &[(Api, u32)], total: u32) -> Api {
    let mut x = rng.below(u64::from(total)) as u32;
    for (api, wt) in repertoire {
        if x < *wt {
            return *api;
        }
        x -= wt;
    }
    repertoire[repertoire.len() - 1].0
}

fn pick_region(rng: &mut Rng, regions: &[(u8, u32)]) -> u8 {
    let total: u32 = regions.iter().map(|r| r.1).sum();
    let mut x = rng.below(u64::from(total)) as u32;
    for (r, wt) in regions {
        if x < *wt {
            return *r;
        }
        x -= wt;
    }
    regions[0].0
}
