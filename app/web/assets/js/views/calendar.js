// Calendar view (FullCalendar 6, vendored global build): month / week / day / list, events colored by
// type, drag and resize for events the user may edit (saved with PUT and the event's version; an
// occurrence of a series moves alone with `?scope=this&occurrence=`; a refusal, such as a 409 for a
// stale version or a production conflict, puts the event back), click or Enter opens the details,
// selecting an empty slot opens the wizard.
import { api } from "../api.js";
import { hasFeature } from "../capabilities.js";
import { append, h, spinner } from "../dom.js";
import { minutesBetween } from "../format.js";
import { getLang, getLocale, t } from "../i18n.js";
import { canEdit, creatableKinds, EVENT_KINDS } from "../roles.js";
import { filterQuery, getFilters, onFiltersChange } from "../store.js";
import { errorMessage } from "../messages.js";
import { toast, toastError } from "../toast.js";

const MOBILE = "(max-width: 767px)";

/** FullCalendar locale object built from our dictionaries, so the calendar follows the UI language. */
export function calendarLocale() {
  return {
    code: getLocale(),
    week: { dow: 1, doy: 4 },
    buttonText: {
      prev: t("calendar.prev"),
      next: t("calendar.next"),
      today: t("calendar.today"),
      month: t("calendar.month"),
      week: t("calendar.week"),
      day: t("calendar.day"),
      list: t("calendar.list"),
    },
    buttonHints: {
      prev: t("calendar.hint_prev"),
      next: t("calendar.hint_next"),
      today: t("calendar.hint_today"),
      month: t("calendar.hint_view", { view: t("calendar.month") }),
      week: t("calendar.hint_view", { view: t("calendar.week") }),
      day: t("calendar.hint_view", { view: t("calendar.day") }),
      list: t("calendar.hint_view", { view: t("calendar.list") }),
    },
    viewHint: t("calendar.view_hint"),
    navLinkHint: t("calendar.nav_link_hint"),
    moreLinkHint: (n) => t("calendar.more_hint", { count: n }),
    closeHint: t("modal.close"),
    timeHint: t("calendar.time_hint"),
    eventHint: t("calendar.event_hint"),
    allDayText: t("calendar.all_day"),
    moreLinkText: (n) => t("calendar.more", { count: n }),
    noEventsText: t("calendar.no_events"),
    weekText: t("calendar.week_short"),
    weekTextLong: t("calendar.week"),
  };
}

// Events whose time no longer matters: moving them would only rewrite history.
const SETTLED = new Set(["in_progress", "completed", "failed", "rolled_back", "cancelled"]);

/** An API event (or one occurrence of a series: `start`/`end` are the occurrence's) for FullCalendar. */
export function toCalendarEvent(raw, user) {
  return {
    id: raw.occurrence_start ? `${raw.id}@${raw.occurrence_start}` : String(raw.id),
    title: raw.title,
    start: raw.start,
    end: raw.end,
    classNames: ["ev", `ev--${raw.type}`, `ev--status-${raw.status}`],
    editable: canEdit(user, raw) && !SETTLED.has(raw.status),
    extendedProps: { raw },
  };
}

/**
 * The PUT of a moved (or resized) event: its URL (one occurrence of a series is moved alone) and the
 * body, the event as read with the new times and the version read.
 */
export function moveRequest(raw, start, end) {
  const extra = { ...(raw.extra || {}) };
  if (raw.type === "deployment_window") extra.duration_minutes = minutesBetween(start, end);
  let url = `/api/events/${raw.id}`;
  if (raw.occurrence_start) {
    // The exception replaces this occurrence only; it does not repeat itself.
    url += `?scope=this&occurrence=${encodeURIComponent(raw.occurrence_start)}`;
    if (raw.type === "meeting") extra.recurrence = { freq: "none" };
  }
  const body = {
    type: raw.type,
    title: raw.title,
    description: raw.description || "",
    start: start.toISOString(),
    end: end.toISOString(),
    team_id: raw.team_id ?? null,
    extra,
    version: raw.version,
  };
  if (raw.rrule && !raw.occurrence_start && !extra.recurrence) body.rrule = raw.rrule;
  return { url, body };
}

/** Shown while the server has no events API yet: the calendar works, empty. */
export function unavailableNotice() {
  return h("p", { class: "notice notice--info", role: "note", text: t("events.unavailable") });
}

export async function mount(main, ctx) {
  const { user } = ctx;
  const eventsApi = hasFeature("events");
  const kinds = hasFeature("createEvent") ? creatableKinds(user.role) : [];
  const busyEl = h("span", { class: "calendar__busy", hidden: true }, spinner(t("common.loading")));
  const legend = h(
    "ul",
    { class: "legend", "aria-label": t("calendar.legend") },
    EVENT_KINDS.map((k) => h("li", { class: "legend__item" }, h("span", { class: ["legend__swatch", `ev--${k}`], "aria-hidden": "true" }), t(`kind.${k}`))),
  );
  const host = h("div", { class: "calendar" });
  // dom.append skips the notice's null (the native append would print "null").
  append(main, [
    h(
      "div",
      { class: "view-header" },
      h("h1", { class: "view-title", text: t("nav.calendar") }),
      busyEl,
      legend,
    ),
    h("p", { class: "visually-hidden", text: t("calendar.sr_help") }),
    eventsApi ? null : unavailableNotice(),
    h("div", { class: "card calendar-card" }, host),
  ]);

  if (!window.FullCalendar) {
    host.append(h("p", { class: "empty-state", role: "alert", text: t("error.load_module") }));
    return undefined;
  }

  const mobile = window.matchMedia(MOBILE);
  const calendar = new window.FullCalendar.Calendar(host, {
    initialView: mobile.matches ? "listWeek" : "dayGridMonth",
    headerToolbar: { left: "prev,next today", center: "title", right: "dayGridMonth,timeGridWeek,timeGridDay,listWeek" },
    locale: calendarLocale(),
    direction: "ltr",
    timeZone: "local",
    height: "auto",
    nowIndicator: true,
    navLinks: true,
    dayMaxEvents: 4,
    eventDisplay: "block",
    eventInteractive: true,
    displayEventEnd: true,
    // The month grid has room for the start time and the title only.
    views: { dayGridMonth: { displayEventEnd: false } },
    slotMinTime: "00:00:00",
    scrollTime: "08:00:00",
    eventTimeFormat: { hour: "2-digit", minute: "2-digit", hour12: getLang() === "en" ? undefined : false },
    selectable: kinds.length > 0,
    selectMirror: true,
    editable: false,
    // Events have a time: dropping one on the all-day row would make no sense to the API.
    allDaySlot: false,
    events(info, success, failure) {
      if (!eventsApi) {
        success([]);
        return;
      }
      api
        .get("/api/events", { ...filterQuery({ withDates: false }), start: info.start.toISOString(), end: info.end.toISOString() })
        .then((body) => success((Array.isArray(body?.items) ? body.items : []).map((e) => toCalendarEvent(e, user))))
        .catch((err) => {
          failure(err);
          toastError(err);
        });
    },
    loading(isLoading) {
      busyEl.hidden = !isLoading;
      host.setAttribute("aria-busy", String(isLoading));
    },
    eventClick(info) {
      info.jsEvent.preventDefault();
      ctx.navigate(`/events/${info.event.extendedProps.raw.id}`);
    },
    eventDidMount(info) {
      const raw = info.event.extendedProps.raw;
      // The type is announced with the title (colour alone carries no meaning for everyone).
      const titleEl = info.el.querySelector(".fc-event-title, .fc-list-event-title a") || info.el;
      titleEl.prepend(h("span", { class: "visually-hidden", text: `${t(`kind.${raw.type}`)} : ` }));
      info.el.title = `${t(`kind.${raw.type}`)} — ${raw.title}`;
    },
    select(info) {
      calendar.unselect();
      const start = new Date(info.start);
      if (info.allDay) start.setHours(9, 0, 0, 0);
      ctx.openWizard({ start });
    },
    moreLinkDidMount(info) {
      // "+N more" is an <a> without href that opens a popover: a button, which aria-expanded needs.
      info.el.setAttribute("role", "button");
    },
    dayCellDidMount(info) {
      // The cell's aria-labelledby names it by its day number only, while it also holds events:
      // axe reports the mismatch. The column header and the number link already give the date.
      info.el.removeAttribute("aria-labelledby");
    },
    datesSet() {
      // FullCalendar's chevron glyphs are role="img" without a name; the buttons carry the label.
      for (const el of host.querySelectorAll(".fc-icon")) {
        el.removeAttribute("role");
        el.setAttribute("aria-hidden", "true");
      }
    },
    eventDrop: persist,
    eventResize: persist,
  });

  async function persist(info) {
    const raw = info.event.extendedProps.raw;
    const start = info.event.start;
    const end = info.event.end || new Date(start.getTime() + (new Date(raw.end) - new Date(raw.start)));
    const { url, body } = moveRequest(raw, start, end);
    try {
      const updated = await api.put(url, body);
      if (raw.occurrence_start || updated?.status !== raw.status) {
        // A new exception event, or a production window sent back for approval: show the server's view.
        calendar.refetchEvents();
      } else {
        info.event.setExtendedProp("raw", updated);
      }
      if (updated?.status === "pending_approval" && raw.status !== "pending_approval") toast(t("calendar.moved_reapproval", { title: raw.title }), "warning");
      else toast(t("calendar.moved", { title: raw.title }), "success");
    } catch (err) {
      info.revert();
      if (err.status === 409) {
        // Stale version (someone else changed it) or a production conflict: back where it was, with why.
        toast(errorMessage(err), "warning");
        calendar.refetchEvents();
      } else toastError(err);
    }
  }

  calendar.render();
  const filters = getFilters();
  if (filters.start) calendar.gotoDate(filters.start);
  const offFilters = onFiltersChange((f) => {
    if (f.start) calendar.gotoDate(f.start);
    calendar.refetchEvents();
  });
  const onMedia = () => calendar.changeView(mobile.matches ? "listWeek" : "dayGridMonth");
  mobile.addEventListener("change", onMedia);
  return () => {
    offFilters();
    mobile.removeEventListener("change", onMedia);
    calendar.destroy();
  };
}
