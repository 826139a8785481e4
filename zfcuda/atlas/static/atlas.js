// The atlas's pages, drawn from window.ATLAS (atlas-data.js) by the URL's hash:
// "" the layers, "#<layer>" a layer's units, "#<layer>/<unit>" one unit. Nothing is fetched.
(function () {
  "use strict";
  const atlas = window.ATLAS;
  const app = document.getElementById("app");
  const crumbs = document.getElementById("crumbs");
  const layerIndex = new Map(atlas.layers.map((layer, i) => [layer.name, i]));

  function el(tag, attributes, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes || {})) {
      if (key === "text") node.textContent = value;
      else node.setAttribute(key, value);
    }
    for (const child of children || []) node.appendChild(child);
    return node;
  }

  function link(hash, text) { return el("a", { href: "#" + hash, text: text }); }
  function spritePath(layer, unit) { return "sprites/" + layer.dir + "/" + unit + "." + atlas.format; }
  function number(value) { return Math.abs(value) >= 100 ? value.toFixed(0) : value.toPrecision(3); }

  function parse() {
    const hash = decodeURIComponent(location.hash.slice(1));
    if (!hash) return { page: "home" };
    const cut = hash.lastIndexOf("/");
    if (cut > 0 && layerIndex.has(hash.slice(0, cut)) && /^\d+$/.test(hash.slice(cut + 1))) {
      const layer = atlas.layers[layerIndex.get(hash.slice(0, cut))];
      const unit = Number(hash.slice(cut + 1));
      if (unit < layer.units.length) return { page: "unit", layer: layer, unit: unit };
    }
    if (layerIndex.has(hash)) return { page: "layer", layer: atlas.layers[layerIndex.get(hash)] };
    return { page: "missing", hash: hash };
  }

  function home() {
    crumbs.textContent = "";
    app.appendChild(el("h1", { text: atlas.model + " on " + atlas.data }));
    app.appendChild(el("p", { class: "summary", text:
      "Each unit's " + atlas.k + " strongest activations over " + atlas.images + " images (ranked by the " +
      (atlas.rank === "sum" ? "sum of its map" : "strongest position of its map") + ", one per image): the receptive-field " +
      "patch above its projection to pixels (" + (atlas.rule === "guided" ? "guided backpropagation: the deconvnet keeping the forward pass's signs, as this model has no max pooling" : "the deconvnet") + ")." + (atlas.unreadable ? " " + atlas.unreadable + " unreadable files were skipped." : "") }));
    const rows = atlas.layers.map((layer) => el("tr", {}, [
      el("td", {}, [link(layer.name, layer.name)]),
      el("td", { text: layer.units.length + " units" }),
      el("td", { text: layer.shape.join(" x ") }),
      el("td", { text: layer.units.filter((u) => u.dead).length + " dead" }),
    ]));
    app.appendChild(el("table", { class: "layers" }, [
      el("tr", {}, ["layer", "units", "map (C x H x W)", "never active"].map((t) => el("th", { text: t }))), ...rows]));
  }

  function layerPage(layer) {
    crumbs.replaceChildren(document.createTextNode(" / " + layer.name));
    app.appendChild(el("h1", { text: layer.name + ": " + layer.units.length + " units" }));
    app.appendChild(el("p", { class: "summary", text: "Each unit's strongest patch; a faded tile marks a unit never active on these images. Click a unit for its page." }));
    const grid = el("div", { class: "grid" });
    layer.units.forEach((unit, i) => {
      const image = el("img", { src: spritePath(layer, i), loading: "lazy", width: atlas.cell, height: atlas.cell, alt: layer.name + " unit " + i });
      const caption = unit.dead ? el("span", { class: "badge", text: i + " dead" }) : el("span", { text: String(i) });
      grid.appendChild(el("a", { class: "tile" + (unit.dead ? " dead" : ""), href: "#" + layer.name + "/" + i, id: "u" + i }, [image, caption]));
    });
    app.appendChild(grid);
  }

  function histogram(unit) {
    const bins = unit.h.length, width = 420, height = 110, bar = (width - 40) / (bins + 2);
    const most = Math.max(1, unit.s, ...unit.h);
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("class", "histogram");
    svg.setAttribute("width", width);
    svg.setAttribute("height", height + 30);
    const add = (tag, attributes, text) => {
      const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
      for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
      if (text !== undefined) node.textContent = text;
      svg.appendChild(node);
    };
    // The grey "never positive" bar, a gap, then the bins from 0 to the unit's range.
    const columns = [unit.s, 0, ...unit.h];
    columns.forEach((count, i) => {
      const h = (count / most) * height;
      if (i !== 1) add("rect", { x: 30 + i * bar, y: height - h, width: Math.max(1, bar - 1), height: h, class: i === 0 ? "silent" : "" });
    });
    add("text", { x: 30 + bar / 2, y: height + 12, "text-anchor": "middle" }, "\u22640");
    add("text", { x: 30 + 2 * bar, y: height + 12 }, "0");
    add("text", { x: 30 + (bins + 2) * bar, y: height + 12, "text-anchor": "end" }, number(unit.t));
    add("text", { x: 30, y: height + 26 }, "images by the unit's " + (atlas.rank === "sum" ? "map sum" : "strongest activation") + " (grey: never positive)");
    add("text", { x: 0, y: 10 }, String(most));
    return svg;
  }

  function unitPage(layer, index) {
    const unit = layer.units[index];
    const count = layer.units.length;
    crumbs.replaceChildren(document.createTextNode(" / "), link(layer.name, layer.name), document.createTextNode(" / unit " + index));
    const title = el("h1", { text: layer.name + " unit " + index });
    if (unit.dead) title.appendChild(el("span", { class: "badge", text: "never active" }));
    app.appendChild(title);
    app.appendChild(el("div", { class: "nav" }, [
      link(layer.name + "/" + ((index + count - 1) % count), "\u2190 unit " + ((index + count - 1) % count)),
      link(layer.name + "/" + ((index + 1) % count), "unit " + ((index + 1) % count) + " \u2192"),
      link(layer.name, "\u2191 all of " + layer.name),
    ]));
    app.appendChild(el("img", { class: "sprite", src: spritePath(layer, index), width: atlas.k * atlas.cell, height: 2 * atlas.cell,
                                alt: "top " + atlas.k + " patches and projections of " + layer.name + " unit " + index }));
    const captions = el("div", { class: "captions" });
    for (let i = 0; i < atlas.k; i++) {
      const file = i < unit.f.length ? atlas.files[unit.f[i]] : "";
      captions.appendChild(el("div", { style: "width:" + atlas.cell + "px", title: file, text: i < unit.v.length ? number(unit.v[i]) + " " + file : "" }));
    }
    app.appendChild(captions);
    app.appendChild(el("p", { class: "rows", text: "Top row: the receptive field of the unit's strongest position in each image; bottom row: that activation projected to pixels (" + (atlas.rule === "guided" ? "guided backpropagation" : "deconvnet") + ")." }));
    app.appendChild(el("h2", { text: "Over all " + atlas.images + " images" }));
    app.appendChild(histogram(unit));
  }

  function render() {
    const where = parse();
    app.replaceChildren();
    if (where.page === "home") home();
    else if (where.page === "layer") layerPage(where.layer);
    else if (where.page === "unit") unitPage(where.layer, where.unit);
    else { app.appendChild(el("p", { text: "No layer or unit " + where.hash + " in this atlas." })); app.appendChild(link("", "all layers")); }
    document.title = "zfcuda atlas" + (where.layer ? ": " + where.layer.name + (where.page === "unit" ? " unit " + where.unit : "") : "");
    window.scrollTo(0, 0);
  }

  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const where = parse();
    if (where.page === "unit") {
      const count = where.layer.units.length;
      if (event.key === "ArrowRight") location.hash = where.layer.name + "/" + ((where.unit + 1) % count);
      else if (event.key === "ArrowLeft") location.hash = where.layer.name + "/" + ((where.unit + count - 1) % count);
      else if (event.key === "ArrowUp" || event.key === "Escape") location.hash = where.layer.name;
    } else if (where.page === "layer") {
      const i = layerIndex.get(where.layer.name), n = atlas.layers.length;
      if (event.key === "ArrowRight") location.hash = atlas.layers[(i + 1) % n].name;
      else if (event.key === "ArrowLeft") location.hash = atlas.layers[(i + n - 1) % n].name;
      else if (event.key === "ArrowUp" || event.key === "Escape") location.hash = "";
    }
  });
  window.addEventListener("hashchange", render);
  render();
})();
