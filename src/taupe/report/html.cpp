#include "taupe/report/html.h"

#include <algorithm>
#include <cmath>

#include "taupe/core/atomic_file.h"
#include "taupe/report/svg.h"

namespace taupe::report {

TableCell num_cell(double v, int decimals) {
  return TableCell(std::isfinite(v) ? fmt_label(v, decimals) : "n/a", Status::Neutral, true);
}

TableCell yes_no_cell(bool ok, std::string yes, std::string no) {
  return TableCell(ok ? std::move(yes) : std::move(no), ok ? Status::Good : Status::Bad);
}

std::string slugify(const std::string& text) {
  std::string s;
  bool dash = false;
  for (char c : text) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (alnum || (c >= 'A' && c <= 'Z')) {
      if (dash && !s.empty()) s += '-';
      dash = false;
      s += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    } else {
      dash = true;
    }
  }
  return s.empty() ? "section" : s;
}

namespace {
const char* status_class(Status s) {
  switch (s) {
    case Status::Good: return "good";
    case Status::Bad: return "bad";
    case Status::Warn: return "warn";
    default: return "";
  }
}

const char* kCss = R"css(
:root{--fg:#1d1d1f;--muted:#5f6368;--line:#d9d9de;--bg:#ffffff;--panel:#f6f7f9;--good:#1a7f37;--good-bg:#dcf5e3;--bad:#b42318;--bad-bg:#fde4e1;--warn:#8a5a00;--warn-bg:#fff1cc;--accent:#0072B2}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 "DejaVu Sans",Helvetica,Arial,sans-serif}
main{max-width:1240px;margin:0 auto;padding:24px 32px 64px}
h1{font-size:28px;margin:8px 0 2px}
.subtitle{color:var(--muted);margin:0 0 18px}
h2{font-size:22px;margin:40px 0 10px;padding-top:10px;border-top:2px solid var(--line)}
h3{font-size:18px;margin:28px 0 8px}
a{color:var(--accent)}
.headline{display:flex;flex-wrap:wrap;gap:12px;background:var(--panel);border:1px solid var(--line);border-left:5px solid var(--accent);border-radius:6px;padding:14px 16px;margin:8px 0 18px}
.headline .item{min-width:150px;padding:4px 12px 4px 0}
.headline .label{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
.headline .value{font-size:20px;font-weight:bold;font-variant-numeric:tabular-nums}
.headline .value.good{color:var(--good)}.headline .value.bad{color:var(--bad)}.headline .value.warn{color:var(--warn)}
.headline .hnote{flex-basis:100%;color:var(--muted);font-size:13px}
nav.toc{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:10px 16px;margin:0 0 12px;columns:2;column-gap:32px}
nav.toc b{display:block;column-span:all;margin-bottom:4px}
nav.toc a{display:block;text-decoration:none;padding:1px 0}
nav.toc a.l3{padding-left:18px;font-size:14px}
figure{margin:18px 0 26px;padding:0}
figure .row{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start}
figure svg{display:block;max-width:100%;height:auto}
figure img{display:block;max-width:100%;height:auto;image-rendering:pixelated;border:1px solid var(--line)}
figcaption{font-size:14px;color:#333;margin-top:6px;max-width:980px}
figcaption b{color:var(--fg)}
table{border-collapse:collapse;margin:10px 0 6px;font-size:14px}
caption{caption-side:top;text-align:left;font-size:14px;color:#333;padding-bottom:6px}
th,td{border:1px solid var(--line);padding:4px 10px;text-align:left;vertical-align:top}
th{background:var(--panel)}
tbody tr:nth-child(even) td{background:#fbfbfc}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.good{background:var(--good-bg)!important;color:var(--good);font-weight:bold}
td.bad{background:var(--bad-bg)!important;color:var(--bad);font-weight:bold}
td.warn{background:var(--warn-bg)!important;color:var(--warn)}
p.note{color:var(--muted);font-style:italic}
#taupe-check{margin-top:40px;font-size:12px;color:var(--muted)}
@media print{nav.toc{display:none}h2{break-before:auto}figure{break-inside:avoid}}
)css";

// Registered in <head> so load errors of any resource are seen; evaluated after 'load'.
const char* kCheckScript = R"js(
(function(){
  var errors=[];
  window.addEventListener('error',function(e){
    var t=e.target;errors.push(t&&t!==window&&(t.src||t.href)?'load '+(t.tagName||'')+' failed':String(e.message||'error'));
  },true);
  function finish(nimg,badimg,nsvgimg,badsvgimg){
    var all=document.querySelectorAll('figure svg'),svgs=[],badsvg=0,i;
    for(i=0;i<all.length;i++){if(!all[i].parentElement.closest('svg'))svgs.push(all[i]);}
    for(i=0;i<svgs.length;i++){var r=svgs[i].getBoundingClientRect();if(!(r.width>0&&r.height>0))badsvg++;}
    var el=document.getElementById('taupe-check');
    var exp=parseInt(el.getAttribute('data-expected-svgs'),10),expi=parseInt(el.getAttribute('data-expected-images'),10);
    var ok=badimg===0&&badsvgimg===0&&badsvg===0&&errors.length===0&&svgs.length===exp&&nimg===expi;
    el.setAttribute('data-status',ok?'ok':'fail');
    el.textContent=(ok?'ok':'fail')+' '+nimg+' images, '+nsvgimg+' svg images, '+svgs.length+' svgs'+
      (ok?'':' (bad images '+badimg+', bad svg images '+badsvgimg+', empty svgs '+badsvg+', expected '+exp+' svgs / '+expi+
      ' images, errors: '+errors.join('; ')+')');
  }
  function run(){
    var imgs=document.querySelectorAll('img'),badimg=0,i;
    for(i=0;i<imgs.length;i++){if(!(imgs[i].complete&&imgs[i].naturalWidth>0))badimg++;}
    var si=document.querySelectorAll('svg image'),pending=si.length,bad=0;
    if(!pending){finish(imgs.length,badimg,0,0);return;}
    function one(ok){if(!ok)bad++;if(--pending===0)finish(imgs.length,badimg,si.length,bad);}
    for(i=0;i<si.length;i++){(function(h){var im=new Image();im.onload=function(){one(im.naturalWidth>0);};
      im.onerror=function(){one(false);};im.src=h;})(si[i].getAttribute('href')||'');}
  }
  if(document.readyState==='complete')run();else window.addEventListener('load',run);
})();
)js";
}  // namespace

HtmlReport::HtmlReport(std::string title, std::string subtitle)
    : title_(std::move(title)), subtitle_(std::move(subtitle)) {}

void HtmlReport::headline(std::vector<HeadlineItem> items, std::string note) {
  std::string h = "<div class=\"headline\">\n";
  for (const auto& it : items) {
    const std::string cls = status_class(it.status);
    h += "<div class=\"item\"><div class=\"label\">" + xml_escape(it.label) + "</div><div class=\"value" +
         (cls.empty() ? "" : " " + cls) + "\">" + xml_escape(it.value) + "</div></div>\n";
  }
  if (!note.empty()) h += "<div class=\"hnote\">" + xml_escape(note) + "</div>\n";
  h += "</div>\n";
  headline_ = std::move(h);
}

std::string HtmlReport::section(const std::string& title, int level, const std::string& id) {
  level = std::clamp(level, 2, 3);
  std::string base = slugify(id.empty() ? title : id);
  std::string uid = base;
  for (int k = 2; std::find(ids_.begin(), ids_.end(), uid) != ids_.end(); ++k) uid = base + "-" + std::to_string(k);
  ids_.push_back(uid);
  toc_.push_back({uid, title, level});
  const std::string tag = "h" + std::to_string(level);
  body_ += "<" + tag + " id=\"" + uid + "\">" + xml_escape(title) + "</" + tag + ">\n";
  return uid;
}

void HtmlReport::paragraph(const std::string& text) { body_ += "<p>" + xml_escape(text) + "</p>\n"; }

void HtmlReport::note(const std::string& text) { body_ += "<p class=\"note\">" + xml_escape(text) + "</p>\n"; }

void HtmlReport::figure_svg(const std::string& svg, const std::string& caption) {
  ++figures_;
  ++svgs_;
  body_ += "<figure id=\"fig-" + std::to_string(figures_) + "\">\n" + svg + "<figcaption><b>Figure " +
           std::to_string(figures_) + ".</b> " + xml_escape(caption) + "</figcaption>\n</figure>\n";
}

void HtmlReport::figure_row(const std::vector<std::string>& svgs, const std::string& caption) {
  ++figures_;
  svgs_ += static_cast<int>(svgs.size());
  body_ += "<figure id=\"fig-" + std::to_string(figures_) + "\">\n<div class=\"row\">\n";
  for (const auto& s : svgs) body_ += "<div>\n" + s + "</div>\n";
  body_ += "</div>\n<figcaption><b>Figure " + std::to_string(figures_) + ".</b> " + xml_escape(caption) +
           "</figcaption>\n</figure>\n";
}

void HtmlReport::figure_image(const Image& img, const std::string& caption, double display_width,
                              const std::string& alt) {
  ++figures_;
  ++imgs_;
  std::string style;
  if (display_width > 0) style = " style=\"width:" + fmt(display_width) + "px\"";
  body_ += "<figure id=\"fig-" + std::to_string(figures_) + "\">\n<img src=\"" + png_data_uri(img) + "\" width=\"" +
           std::to_string(img.width) + "\" height=\"" + std::to_string(img.height) + "\" alt=\"" +
           xml_escape(alt.empty() ? caption : alt) + "\"" + style + ">\n<figcaption><b>Figure " +
           std::to_string(figures_) + ".</b> " + xml_escape(caption) + "</figcaption>\n</figure>\n";
}

void HtmlReport::table(const Table& t) {
  ++tables_;
  body_ += "<table>\n<caption><b>Table " + std::to_string(tables_) + ".</b> " + xml_escape(t.caption) + "</caption>\n";
  if (!t.header.empty()) {
    body_ += "<thead><tr>";
    for (const auto& h : t.header) body_ += "<th>" + xml_escape(h) + "</th>";
    body_ += "</tr></thead>\n";
  }
  body_ += "<tbody>\n";
  for (const auto& row : t.rows) {
    body_ += "<tr>";
    for (const auto& c : row) {
      std::string cls = status_class(c.status);
      if (c.numeric) cls += cls.empty() ? "num" : " num";
      body_ += "<td" + (cls.empty() ? std::string() : " class=\"" + cls + "\"") + ">" + xml_escape(c.text) + "</td>";
    }
    body_ += "</tr>\n";
  }
  body_ += "</tbody>\n</table>\n";
}

void HtmlReport::key_values(const std::vector<std::pair<std::string, std::string>>& kv, const std::string& caption) {
  Table t;
  t.caption = caption;
  t.header = {"key", "value"};
  for (const auto& [k, v] : kv) t.add_row({TableCell(k), TableCell(v)});
  table(t);
}

void HtmlReport::raw_html(const std::string& html) { body_ += html; }

std::string HtmlReport::html() const {
  std::string h = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                  "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; "
                  "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n<title>" +
                  xml_escape(title_) + "</title>\n<style>" + kCss + "</style>\n<script>" + kCheckScript +
                  "</script>\n</head>\n<body>\n<main>\n<h1>" + xml_escape(title_) + "</h1>\n";
  if (!subtitle_.empty()) h += "<p class=\"subtitle\">" + xml_escape(subtitle_) + "</p>\n";
  h += headline_;
  if (!toc_.empty()) {
    h += "<nav class=\"toc\"><b>Contents</b>\n";
    for (const auto& e : toc_)
      h += "<a class=\"l" + std::to_string(e.level) + "\" href=\"#" + e.id + "\">" + xml_escape(e.title) + "</a>\n";
    h += "</nav>\n";
  }
  h += body_;
  h += "<div id=\"taupe-check\" data-status=\"pending\" data-expected-svgs=\"" + std::to_string(svgs_) +
       "\" data-expected-images=\"" + std::to_string(imgs_) + "\">self-check pending</div>\n";
  h += "</main>\n</body>\n</html>\n";
  return h;
}

void HtmlReport::write(const std::filesystem::path& path) const { write_text_atomic(path, html()); }

}  // namespace taupe::report
