/**
 * What the listing page carries besides its rows: one style sheet, one SVG sprite
 * of type icons, and one optional script, all inline so a page is one request, and
 * each allowed by its hash in the page's Content-Security-Policy (CSP Level 3
 * §8.4), so no other inline style or script runs, however it got into the page.
 */
import { createHash } from "node:crypto";
import { LINK_CSS, THEME_CSS } from "../../core/theme.js";

/** The CSP hash-source of an inline element's text. */
export function hashSource(text: string): string {
  return `'sha256-${createHash("sha256").update(text).digest("base64")}'`;
}

// Narrow screens (a 390 px phone): the name column wraps anywhere, sizes and
// dates never do, and the time of day is dropped so the three columns fit
// without a horizontal scroll bar. Focus is always visible for keyboard users.
export const LISTING_CSS = `${THEME_CSS}
${LINK_CSS}
a:focus-visible,input:focus-visible,button:focus-visible{outline:2px solid var(--link);outline-offset:2px}
.sprite{position:absolute;width:0;height:0;overflow:hidden}
.crumbs ol{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.25rem;color:var(--muted);overflow-wrap:anywhere}
.crumbs li+li::before{content:"›";margin-right:.25rem}
.crumbs [aria-current]{color:var(--fg);font-weight:600}
h1{margin:.25rem 0 .75rem}
form{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin:0 0 .75rem}
input[type=search]{flex:1 1 12rem;min-width:0;font:inherit;padding:.3rem .5rem;color:var(--fg);background:var(--bg);border:1px solid var(--line);border-radius:6px}
button{font:inherit;padding:.3rem .8rem;color:var(--fg);background:var(--bg);border:1px solid var(--line);border-radius:6px;cursor:pointer}
table{width:100%;border-collapse:collapse;table-layout:auto}
caption{text-align:left;color:var(--muted);padding:.25rem 0;caption-side:bottom}
th,td{padding:.35rem .5rem;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{font-weight:600;white-space:nowrap}
th a{color:var(--fg)}
td.name{overflow-wrap:anywhere;word-break:break-word}
.icon{width:1em;height:1em;vertical-align:-.15em;margin-right:.4rem;fill:none;stroke:var(--muted);stroke-width:1.5}
.size,.mtime{white-space:nowrap;color:var(--muted);font-variant-numeric:tabular-nums}
.size{text-align:right}
.pages{display:flex;flex-wrap:wrap;gap:1rem;justify-content:space-between;align-items:center;margin:.75rem 0;color:var(--muted)}
.readme{margin-top:2rem;padding-top:1rem;border-top:1px solid var(--line);overflow-wrap:anywhere}
.readme pre{overflow-x:auto;padding:.75rem;border:1px solid var(--line);border-radius:6px}
.readme img{max-width:100%}
.readme a{text-decoration:underline}
.upload ul{list-style:none;margin:0;padding:0;flex-basis:100%}
.upload li{overflow-wrap:anywhere}
.upload progress{vertical-align:middle}
body.dropping{outline:3px dashed var(--link);outline-offset:-6px}
.qr{margin:0 0 .75rem;color:var(--muted);font-size:.875rem;overflow-wrap:anywhere}
.qr-code{display:block;width:12rem;height:12rem;max-width:100%}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
@media (max-width:36rem){body{padding:.5rem}th,td{padding:.35rem .25rem}.hm{display:none}.icon{margin-right:.2rem}}`;

/** Icon ids, by entry kind. */
export const ICON = { directory: "i-dir", file: "i-file", parent: "i-up" } as const;

/** One sprite per page; rows refer to it with `<use href="#i-...">`, so an icon costs ~60 bytes a row and no request. */
export const SPRITE = `<svg class=sprite aria-hidden="true" focusable="false">
<symbol id="${ICON.directory}" viewBox="0 0 16 16"><path d="M1.5 3.5h4l1.5 1.5h7.5v8h-13z"/></symbol>
<symbol id="${ICON.file}" viewBox="0 0 16 16"><path d="M3.5 1.5h6l3 3v10h-9z M9.5 1.5v3h3"/></symbol>
<symbol id="${ICON.parent}" viewBox="0 0 16 16"><path d="M8 13V3 M4 7l4-4 4 4"/></symbol>
</svg>`;

/**
 * Filter as you type, on a listing that fits one page: rows whose name does not
 * contain the text are hidden. On a paged listing the script does nothing (it
 * would filter only the page shown); the form's GET filters the whole directory,
 * with or without the script.
 */
export const FILTER_SCRIPT = `(()=>{const f=document.querySelector("form[data-live]"),i=f&&f.elements.namedItem("q");if(!i)return;const rows=[...document.querySelectorAll("tbody tr[data-entry]")];i.addEventListener("input",()=>{const n=i.value.toLowerCase();for(const r of rows)r.hidden=n!==""&&!r.textContent.toLowerCase().includes(n)})})()`;

/**
 * Uploads from the page (src/features/upload), on a directory that takes them.
 * Without it the form posts multipart/form-data and the server redirects back
 * here. With it: files chosen or dropped anywhere on the page (folders too when
 * the server makes directories), a credentials check (`POST ./?check`) before
 * any byte is sent (a 401 makes the browser ask for the password first, not
 * after a long upload), then one `PUT` per file, one at a time, with its own
 * progress bar and the server's answer (a 409 names the file that is there).
 */
export const UPLOAD_SCRIPT = `(()=>{const f=document.querySelector("form[data-upload]");if(!f)return;const input=f.elements.namedItem("file"),list=f.querySelector("ul"),out=f.querySelector("output"),folders=f.hasAttribute("data-folders"),pick=f.querySelector("[data-folder]");
const enc=p=>p.split("/").map(encodeURIComponent).join("/");
const say=t=>{out.textContent=t};
async function entries(entry,prefix,acc){if(entry.isFile){acc.push(await new Promise((ok,no)=>entry.file(file=>ok({file,path:prefix+file.name}),no)));return}
if(!entry.isDirectory||!folders)return;const reader=entry.createReader();for(;;){const batch=await new Promise((ok,no)=>reader.readEntries(ok,no));if(batch.length===0)break;for(const e of batch)await entries(e,prefix+entry.name+"/",acc)}}
function put(item){return new Promise(done=>{const li=document.createElement("li"),bar=document.createElement("progress"),note=document.createElement("span");li.textContent=item.path+" ";bar.max=item.file.size||1;bar.value=0;li.append(bar," ",note);list.append(li);
const x=new XMLHttpRequest();x.open("PUT","./"+enc(item.path));x.setRequestHeader("accept","application/json");x.upload.onprogress=e=>{bar.value=e.loaded};
x.onload=()=>{let d="";try{d=JSON.parse(x.responseText).detail||""}catch{}bar.value=bar.max;note.textContent=x.status<300?"done":x.status+" "+d;li.dataset.status=String(x.status);done(x.status<300)};
x.onerror=()=>{note.textContent="failed";li.dataset.status="error";done(false)};x.send(item.file)})}
async function send(items){if(items.length===0)return;say("Checking that this folder takes uploads…");
const check=await fetch("./?check",{method:"POST",headers:{accept:"application/json"}}).catch(()=>undefined);
if(!check||check.status!==204){let d="";try{d=(await check.json()).detail||""}catch{}say("Uploads refused: "+(check?check.status+" "+d:"no answer"));return}
let ok=0;say("Uploading "+items.length+" file"+(items.length===1?"":"s")+"…");for(const item of items)if(await put(item))ok++;
say(ok+" of "+items.length+" uploaded.");f.dataset.done=String(ok);if(ok===items.length)setTimeout(()=>location.reload(),600)}
f.addEventListener("submit",e=>{e.preventDefault();send([...input.files].map(file=>({file,path:file.name})))});
if(pick){pick.hidden=false;const dir=document.createElement("input");dir.type="file";dir.webkitdirectory=true;dir.hidden=true;f.append(dir);pick.addEventListener("click",()=>dir.click());dir.addEventListener("change",()=>send([...dir.files].map(file=>({file,path:file.webkitRelativePath||file.name}))))}
document.addEventListener("dragover",e=>{e.preventDefault();document.body.classList.add("dropping")});
document.addEventListener("dragleave",e=>{if(e.relatedTarget===null)document.body.classList.remove("dropping")});
document.addEventListener("drop",async e=>{e.preventDefault();document.body.classList.remove("dropping");const acc=[],dt=e.dataTransfer;
const es=[...dt.items].map(i=>i.webkitGetAsEntry&&i.webkitGetAsEntry()).filter(Boolean);
if(es.length>0){for(const en of es)await entries(en,"",acc)}else for(const file of dt.files)acc.push({file,path:file.name});send(acc)})})()`;

export const STYLE_HASH = hashSource(LISTING_CSS);
export const SCRIPT_HASH = hashSource(FILTER_SCRIPT);
export const UPLOAD_SCRIPT_HASH = hashSource(UPLOAD_SCRIPT);

/**
 * The page's policy: nothing loads or runs but this one style sheet and script;
 * forms submit only to this origin (`form-action` does not fall back to
 * default-src); no `<base>` can redirect the relative links. Images from the
 * same origin only when a README (which may show the directory's pictures) is on the page.
 */
export function listingPolicy(images: boolean, upload = false): string {
  // An upload page also runs the upload script, which talks to this origin only (connect-src).
  const scripts = upload ? `${SCRIPT_HASH} ${UPLOAD_SCRIPT_HASH}` : SCRIPT_HASH;
  return `default-src 'none'; style-src ${STYLE_HASH}; script-src ${scripts}; ${upload ? "connect-src 'self'; " : ""}${images ? "img-src 'self'; " : ""}form-action 'self'; base-uri 'none'`;
}
