// Every piece of text on the page whose contrast against what is behind it is below 4.5:1
// (WCAG 2 relative luminance; backgrounds and opacities composited up the ancestors; an empty
// field's placeholder counts as text). Answers [[text, ratio], ...]; used by the kiosk's tests.
(() => {
  const parse = (c) => { const m = c.match(/rgba?\(([^)]+)\)/); if (!m) return [0,0,0,0];
    const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const over = (top, under) => { const a = top[3]; return [0,1,2].map(i => top[i]*a + under[i]*(1-a)).concat([1]); };
  const lum = (c) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v/12.92 : Math.pow((v+0.055)/1.055, 2.4); };
    return 0.2126*f(c[0]) + 0.7152*f(c[1]) + 0.0722*f(c[2]); };
  const background = (el) => { const chain = []; for (let e = el; e; e = e.parentElement) chain.push(e);
    let bg = [255,255,255,1];
    for (const e of chain.reverse()) { const cs = getComputedStyle(e); let c = parse(cs.backgroundColor);
      c[3] *= parseFloat(cs.opacity); if (c[3] > 0) bg = over(c, bg); }
    return bg; };
  const opacity = (el) => { let o = 1; for (let e = el; e; e = e.parentElement) o *= parseFloat(getComputedStyle(e).opacity); return o; };
  const bad = [];
  for (const el of document.querySelectorAll("body *")) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    const ph = el.matches("input[placeholder]:placeholder-shown");
    if (!own && !ph) continue;
    const r = el.getBoundingClientRect();
    const cs = getComputedStyle(el);
    if (!r.width || !r.height || cs.visibility === "hidden") continue;
    let fg = parse(ph ? getComputedStyle(el, "::placeholder").color : cs.color);
    const bg = background(el);
    fg[3] *= opacity(el);
    fg = over(fg, bg);
    const a = lum(fg), b = lum(bg);
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) bad.push([(ph ? el.placeholder : el.textContent).trim().slice(0, 40), Math.round(ratio * 100) / 100]);
  }
  return bad;
})
