// The multi-step creation (and edition) wizard in a modal: a type chooser limited to what the user's
// role may create, then the kind's steps with the dots indicator, per-step validation (same rules as
// the server), a summary, and the POST/PUT. Server field errors send the user back to the right step.
import { api } from "../api.js";
import { h, setChildren } from "../dom.js";
import { applyFieldErrors, focusField, formAlert } from "../forms.js";
import { t } from "../i18n.js";
import { openModal } from "../modal.js";
import { creatableKinds } from "../roles.js";
import { loadTeams, loadUsers } from "../store.js";
import { errorMessage, fieldMessages, nextFreeSlot } from "../messages.js";
import { toLocalInputs } from "../format.js";
import { toast } from "../toast.js";
import { STEPS, buildPayload, dataFromEvent, initialData, needsApproval, validateStep } from "../wizard-model.js";
import { RENDERERS, STEP_FIELDS } from "./wizard-steps.js";

function translateErrors(errors) {
  return Object.fromEntries(Object.entries(errors).map(([f, e]) => [f, t(e.key, e.params)]));
}

/** openWizard({ user, onSaved, start?: Date, event?: existing event to edit, kind?: preselected }) */
export function openWizard({ user, onSaved = () => {}, start, event, kind: preset } = {}) {
  const editing = Boolean(event);
  const kinds = editing ? [event.type] : creatableKinds(user?.role);
  if (!kinds.length) return null;
  let kind = editing ? event.type : preset && kinds.includes(preset) ? preset : kinds.length === 1 ? kinds[0] : null;
  let data = null;
  let stepIndex = 0;
  let ref = { teams: [], users: [] };
  const alert = formAlert();
  const progress = h("div", { class: "wizard__progress" });
  const content = h("div", { class: "wizard__content" });
  const back = h("button", { type: "button", class: "btn btn--secondary", text: t("action.previous") });
  const nextBtn = h("button", { type: "submit", class: "btn btn--primary" });
  const form = h("form", { class: "wizard", novalidate: true }, progress, alert, content, h("div", { class: "wizard__footer" }, back, nextBtn));
  const modal = openModal({ title: editing ? t("wizard.edit_title") : t("wizard.create_title"), content: form, size: "lg" });

  const refReady = Promise.all([loadTeams(), loadUsers()]).then(([teams, users]) => {
    ref = { teams, users };
  });

  function startKind(k) {
    kind = k;
    data = editing ? dataFromEvent(event) : initialData(k, { user, start, translate: (key) => t(key) });
    stepIndex = 0;
    draw();
  }

  function drawChooser() {
    setChildren(progress, h("p", { class: "wizard__step-label", text: t("wizard.choose_kind") }));
    const name = "wizard-kind";
    const options = kinds.map((k) => {
      const id = `${name}-${k}`;
      const radio = h("input", { type: "radio", name, id, value: k, checked: k === (kind || kinds[0]) });
      return h("label", { class: ["kind-card", `kind-card--${k}`], for: id }, radio, h("span", { class: "kind-card__swatch", "aria-hidden": "true" }), h("span", { class: "kind-card__title", text: t(`kind.${k}`) }), h("span", { class: "kind-card__desc", text: t(`kind.${k}.desc`) }));
    });
    setChildren(content, h("fieldset", { class: "kind-chooser" }, h("legend", { class: "visually-hidden", text: t("wizard.choose_kind") }), options));
    back.hidden = true;
    nextBtn.textContent = t("action.next");
    modal.setTitle(t("wizard.create_title"));
    content.querySelector("input:checked")?.focus();
  }

  function drawProgress(steps) {
    const dots = h(
      "ol",
      { class: "dots", "aria-label": t("wizard.progress") },
      steps.map((s, i) =>
        h(
          "li",
          { class: ["dot", i === stepIndex && "is-active", i < stepIndex && "is-done"], "aria-current": i === stepIndex ? "step" : null },
          h("span", { class: "visually-hidden", text: `${t(`wizard.step.${kind}.${s}`)}${i < stepIndex ? ` (${t("wizard.step_done")})` : ""}` }),
        ),
      ),
    );
    setChildren(progress, 
      dots,
      h("p", { class: "wizard__step-label", "aria-live": "polite" }, h("span", { class: "wizard__count", text: t("wizard.step_of", { n: stepIndex + 1, total: steps.length }) }), " — ", t(`wizard.step.${kind}.${steps[stepIndex]}`)),
    );
  }

  function draw({ focus = true } = {}) {
    alert.show("");
    if (!kind || data === null) {
      drawChooser();
      return;
    }
    const steps = STEPS[kind];
    const step = steps[stepIndex];
    modal.setTitle(`${editing ? t("wizard.edit_title") : t("wizard.create_title")} — ${t(`kind.${kind}`)}`);
    drawProgress(steps);
    const nodes = RENDERERS[kind][step](data, { ...ref, rerender: () => draw({ focus: false }) });
    setChildren(content, h("div", { class: "wizard__step", dataset: { step } }, nodes));
    back.hidden = stepIndex === 0 && (editing || kinds.length === 1);
    const last = stepIndex === steps.length - 1;
    if (!last) nextBtn.textContent = `${t("action.next")} →`;
    else if (editing) nextBtn.textContent = t("action.save");
    else if (needsApproval(data)) nextBtn.textContent = t("wizard.submit_approval");
    else nextBtn.textContent = t("action.create");
    if (focus) {
      const first = content.querySelector("input:not([type=hidden]):not([hidden]), select, textarea");
      (first || content).focus?.();
    }
  }

  function validateCurrent() {
    const step = STEPS[kind][stepIndex];
    const errors = translateErrors(validateStep(kind, step, data));
    const first = applyFieldErrors(content, errors);
    if (first) {
      alert.show(t("validation.fix_fields"));
      focusField(first);
      return false;
    }
    return true;
  }

  async function submit() {
    // Every step must be valid, not only the last one shown.
    for (let i = 0; i < STEPS[kind].length; i += 1) {
      const errors = validateStep(kind, STEPS[kind][i], data);
      if (Object.keys(errors).length) {
        stepIndex = i;
        draw();
        validateCurrent();
        return;
      }
    }
    const body = buildPayload(data);
    nextBtn.disabled = true;
    nextBtn.classList.add("is-busy");
    try {
      const saved = editing ? await api.put(`/api/events/${event.id}`, body) : await api.post("/api/events", body);
      modal.close("saved");
      if (editing) toast(t("wizard.saved"), "success");
      else toast(needsApproval(data) ? t("wizard.submitted_approval") : t("wizard.created"), "success");
      onSaved(saved);
    } catch (err) {
      handleServerError(err);
    } finally {
      nextBtn.disabled = false;
      nextBtn.classList.remove("is-busy");
    }
  }

  function handleServerError(err) {
    if (err.kind === "deployment-conflict") {
      // Another production window holds a shared service then (or a freeze): offer the server's next
      // free slot, on the step that sets the time.
      const slot = nextFreeSlot(err);
      stepIndex = 0;
      draw({ focus: false });
      alert.show(errorMessage(err));
      if (slot) {
        const use = h("button", { type: "button", class: "btn btn--secondary btn--small form-alert__action", text: t("wizard.use_next_slot") });
        use.addEventListener("click", () => {
          Object.assign(data, toLocalInputs(slot));
          draw();
          toast(t("wizard.slot_applied"), "info");
        });
        alert.append(" ", use);
      }
      return;
    }
    if (err.status === 409) {
      alert.show(errorMessage(err));
      return;
    }
    const fieldErrors = fieldMessages(err);
    const names = Object.keys(fieldErrors);
    if (names.length) {
      const steps = STEPS[kind];
      const target = steps.findIndex((s) => names.some((n) => STEP_FIELDS[kind][s].includes(n)));
      if (target >= 0 && target !== stepIndex) {
        stepIndex = target;
        draw();
      }
      const first = applyFieldErrors(content, fieldErrors);
      alert.show(t("validation.fix_fields"));
      if (first) focusField(first);
      return;
    }
    alert.show(errorMessage(err));
  }

  back.addEventListener("click", () => {
    if (!kind || data === null) return;
    if (stepIndex === 0) {
      data = null;
      draw();
      return;
    }
    stepIndex -= 1;
    draw();
  });

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!kind || data === null) {
      const chosen = content.querySelector("input[name=wizard-kind]:checked")?.value || kinds[0];
      await refReady;
      startKind(chosen);
      return;
    }
    if (!validateCurrent()) return;
    if (stepIndex < STEPS[kind].length - 1) {
      stepIndex += 1;
      draw();
    } else {
      await submit();
    }
  });

  if (kind) refReady.then(() => startKind(kind));
  else draw();
  if (kind) content.append(h("div", { class: "skeleton-group" }, h("div", { class: "skeleton" }), h("div", { class: "skeleton" })));
  return modal;
}
