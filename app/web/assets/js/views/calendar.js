// Calendar view (FullCalendar 6, vendored global build): month / week / day / list, events colored by
// type, drag and resize for events the user may edit (saved with PUT and the event's version; a 409
// reverts the move), click or Enter opens the details, selecting an empty slot opens the wizard.
import { api } from "../api.js";
import { hasFeature } from "../capabilities.js";
import { h, spinner } from "../dom.js";
import { minutesBetween } from "../format.js";
import { getLang, getLocale, t } from "../i18n.js";
import { canEdit, creatableKinds, EVENT_KINDS } from "../roles.js";
import { filterQuery, getFilters, onFiltersChange } from "../store.js";
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

function toCalendarEvent(raw, user) {
  const recurring = raw.type === "meeting" && raw.extra?.recurrence?.freq && raw.extra.recurrence.freq !== "none";
  const start = raw.occurrence_start || raw.start;
  let end = raw.end;
  if (raw.occurrence_start) end = new Date(new Date(raw.occurrence_start).getTime() + (new Date(raw.end) - new Date(raw.start))).toISOString();
  return {
    id: raw.occurrence_start ? `${raw.id}@${raw.occurrence_start}` : String(raw.id),
    title: raw.title,
    start,
    end,
    classNames: ["ev", `ev--${raw.type}`, `ev--status-${raw.status}`],
    editable: canEdit(user, raw) && !recurring,
    extendedProps: { raw },
  };
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
  main.append(
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
  );

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
    slotMinTime: "00:00:00",
    scrollTime: "08:00:00",
    eventTimeFormat: { hour: "2-digit", minute: "2-digit", hour12: getLang() === "en" ? undefined : false },
    selectable: kinds.length > 0,
    selectMirror: true,
    editable: false,
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
    const extra = { ...(raw.extra || {}) };
    if (raw.type === "deployment_window") extra.duration_minutes = minutesBetween(start, end);
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
    try {
      const updated = await api.put(`/api/events/${raw.id}`, body);
      info.event.setExtendedProp("raw", updated && updated.id ? updated : { ...raw, ...body, version: (raw.version ?? 0) + 1 });
      toast(t("calendar.moved", { title: raw.title }), "success");
    } catch (err) {
      info.revert();
      if (err.status === 409) {
        toast(t("error.conflict"), "warning");
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
