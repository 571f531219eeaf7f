// Shared client state: the event filters (used by the calendar and the table) and small caches of
// reference data (teams, users) loaded once per session.
import { api } from "./api.js";

const EMPTY_FILTERS = Object.freeze({ type: "", team_id: "", status: "", created_by: "", start: "", end: "" });
let filters = { ...EMPTY_FILTERS };
const filterListeners = new Set();

export function getFilters() {
  return { ...filters };
}

export function setFilters(patch) {
  filters = { ...filters, ...patch };
  for (const fn of filterListeners) fn(getFilters());
}

export function resetFilters() {
  setFilters({ ...EMPTY_FILTERS });
}

export function activeFilterCount() {
  return Object.values(filters).filter((v) => v !== "").length;
}

export function onFiltersChange(fn) {
  filterListeners.add(fn);
  return () => filterListeners.delete(fn);
}

/** Event query parameters of the current filters (the calendar supplies its own start/end). */
export function filterQuery({ withDates = true } = {}) {
  const q = { type: filters.type, team_id: filters.team_id, status: filters.status, created_by: filters.created_by };
  if (withDates) {
    if (filters.start) q.start = new Date(`${filters.start}T00:00:00`).toISOString();
    if (filters.end) q.end = new Date(`${filters.end}T23:59:59`).toISOString();
  }
  return q;
}

let teamsPromise = null;
let usersPromise = null;

/** Teams list (cached); an error leaves an empty list so forms still work. */
export function loadTeams() {
  if (!teamsPromise) {
    teamsPromise = api
      .get("/api/teams")
      .then((body) => (Array.isArray(body?.items) ? body.items : []))
      .catch(() => {
        teamsPromise = null;
        return [];
      });
  }
  return teamsPromise;
}

/** Users list (cached), for participants, the creator filter and display names. */
export function loadUsers() {
  if (!usersPromise) {
    usersPromise = api
      .get("/api/users", { limit: 500 })
      .then((body) => (Array.isArray(body?.items) ? body.items : []))
      .catch(() => {
        usersPromise = null;
        return [];
      });
  }
  return usersPromise;
}

export function invalidateUsers() {
  usersPromise = null;
}

export function invalidateTeams() {
  teamsPromise = null;
}

export function clearCaches() {
  teamsPromise = null;
  usersPromise = null;
  filters = { ...EMPTY_FILTERS };
}

export function userLabel(user) {
  if (!user) return "";
  return user.display_name || user.username || `#${user.id}`;
}
