/// The dashboard at `/`: one self-contained page (no CDN, no fonts, no images from elsewhere), so it works offline and
/// behind any proxy. It polls the JSON endpoints every 2 seconds and renders with `textContent` only (order data is
/// never parsed as HTML). Every figure carries a `data-value`, so a test can read what the page shows.
enum DashboardPage {
    static let html = #"""
    <!doctype html>
    <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
    <title>OrderFlow</title>
    <style>
    :root{--bg:#f5f6f8;--card:#fff;--ink:#1c232b;--muted:#5d6672;--line:#e6e8eb;--blue:#2f6fdf;--red:#c62f2f;--green:#1f8a4c;--amber:#b86e00}
    *{box-sizing:border-box} body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;padding:.75rem;background:var(--bg);color:var(--ink)}
    header{display:flex;flex-wrap:wrap;align-items:baseline;gap:.5rem 1rem;margin-bottom:.75rem}
    h1{font-size:1.25rem;margin:0} h2{font-size:.8rem;font-weight:600;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);margin:0 0 .5rem}
    .meta{color:var(--muted);font-size:.8rem} #error{display:none;background:#fde8e8;color:var(--red);padding:.5rem .75rem;border-radius:6px;margin-bottom:.75rem}
    main{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,22rem),1fr));gap:.75rem}
    section{background:var(--card);border-radius:8px;padding:.75rem;box-shadow:0 1px 2px #0000001f;min-width:0}
    .wide{grid-column:1/-1}
    .tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(8.5rem,1fr));gap:.5rem}
    .tile .num{font-size:1.5rem;font-weight:650;overflow-wrap:anywhere} .tile .label{color:var(--muted);font-size:.75rem}
    svg{width:100%;display:block} .axis{fill:var(--muted);font-size:9px}
    table{width:100%;border-collapse:collapse;font-size:.85rem} th,td{text-align:left;padding:.35rem .3rem;border-bottom:1px solid var(--line)}
    th{color:var(--muted);font-weight:500} td.n{text-align:right;font-variant-numeric:tabular-nums}
    .badge{display:inline-block;padding:.1rem .45rem;border-radius:999px;font-size:.75rem;font-weight:600;color:#fff;background:var(--green)}
    .badge.ALARM{background:var(--red)} .badge.INSUFFICIENT_DATA{background:var(--amber)}
    button{font:inherit;font-size:.8rem;padding:.25rem .6rem;border-radius:5px;border:1px solid var(--line);background:#fff;cursor:pointer}
    button.ok{border-color:var(--green);color:var(--green)} button.no{border-color:var(--red);color:var(--red)}
    .empty{color:var(--muted);font-size:.85rem}
    ul.alarms{list-style:none;margin:0;padding:0} ul.alarms li{display:flex;justify-content:space-between;gap:.5rem;padding:.3rem 0;border-bottom:1px solid var(--line);font-size:.85rem}
    </style></head><body>
    <header><h1>OrderFlow</h1><span class="meta" id="system">–</span><span class="meta" id="updated">loading…</span></header>
    <div id="error" role="alert"></div>
    <form id="auth" style="display:none;margin-bottom:.75rem" autocomplete="off">
      <label for="key">This server needs an API key:</label> <input id="key" type="password" size="40" placeholder="ofk_…"> <button type="submit">use key</button>
      <span class="meta">(kept in this tab only)</span>
    </form>
    <main>
      <section class="wide"><div class="tiles">
        <div class="tile"><div class="num" id="orders" data-value="">–</div><div class="label">orders</div></div>
        <div class="tile"><div class="num" id="highValue" data-value="">–</div><div class="label">high-value</div></div>
        <div class="tile"><div class="num" id="revenue" data-value="">–</div><div class="label">revenue</div></div>
        <div class="tile"><div class="num" id="openReviews" data-value="">–</div><div class="label">open reviews</div></div>
        <div class="tile"><div class="num" id="deadLetters" data-value="">–</div><div class="label">dead letters</div></div>
        <div class="tile"><div class="num" id="backlog" data-value="">–</div><div class="label">outbox backlog</div></div>
      </div></section>
      <section class="wide"><h2>Orders per minute, last 60 minutes</h2><svg id="perMinute" viewBox="0 0 600 130" role="img" aria-label="orders per minute"></svg></section>
      <section><h2>Revenue by currency</h2><svg id="revenueChart" viewBox="0 0 300 40" role="img" aria-label="revenue by currency"></svg></section>
      <section><h2>Alarms</h2><ul class="alarms" id="alarms"></ul></section>
      <section><h2>High-value orders to review</h2><table id="reviews"><thead><tr><th>order</th><th class="n">amount</th><th></th></tr></thead><tbody></tbody></table></section>
      <section><h2>Queues</h2><table id="queues"><thead><tr><th>queue</th><th class="n">visible</th><th class="n">in flight</th><th class="n">DLQ</th><th></th></tr></thead><tbody></tbody></table></section>
      <section class="wide"><h2>Recent orders</h2><table id="recent"><thead><tr><th>order</th><th class="n">amount</th><th>status</th><th>source</th><th>time</th></tr></thead><tbody></tbody></table></section>
    </main>
    <script>
    "use strict";
    const SVG="http://www.w3.org/2000/svg";
    const $=id=>document.getElementById(id);
    function headers(){const k=sessionStorage.getItem("orderflow.key");return k?{"X-API-Key":k}:{}}
    async function get(path){const r=await fetch(path,{cache:"no-store",headers:headers()});if(r.status===401)$("auth").style.display="block";if(!r.ok)throw new Error(path+" answered "+r.status);return r.json()}
    $("auth").onsubmit=e=>{e.preventDefault();sessionStorage.setItem("orderflow.key",$("key").value.trim());$("auth").style.display="none";refresh()};
    function show(id,value,text){const e=$(id);e.dataset.value=String(value);e.textContent=text===undefined?String(value):text}
    function el(tag,attrs,text){const e=document.createElement(tag);for(const[k,v]of Object.entries(attrs||{}))e.setAttribute(k,v);if(text!==undefined)e.textContent=text;return e}
    function svgEl(tag,attrs,text){const e=document.createElementNS(SVG,tag);for(const[k,v]of Object.entries(attrs))e.setAttribute(k,v);if(text!==undefined)e.textContent=text;return e}
    function body(id){const t=$(id).tBodies[0];t.replaceChildren();return t}
    function row(tbody,attrs,cells){const tr=el("tr",attrs);for(const c of cells){if(c instanceof Node){const td=el("td");td.appendChild(c);tr.appendChild(td)}else{tr.appendChild(el("td",typeof c==="object"?{class:"n"}:{},typeof c==="object"?c.n:String(c)))}}tbody.appendChild(tr);return tr}
    function empty(tbody,columns,text){const tr=el("tr");const td=el("td",{colspan:String(columns),class:"empty"},text);tr.appendChild(td);tbody.appendChild(tr)}
    async function act(path,label){try{const r=await fetch(path,{method:"POST",headers:headers()});if(!r.ok){const p=await r.json().catch(()=>({}));throw new Error(label+": "+(p.detail||r.status))}await refresh()}catch(e){fail(e)}}
    function fail(e){const b=$("error");b.textContent=String(e.message||e);b.style.display="block"}

    function perMinute(minutes){
      const svg=$("perMinute");svg.replaceChildren();const max=Math.max(1,...minutes.map(m=>m.orders));const w=600/minutes.length;
      svg.dataset.total=String(minutes.reduce((s,m)=>s+m.orders,0));svg.dataset.max=String(max);
      minutes.forEach((m,i)=>{const h=m.orders?Math.max(2,110*m.orders/max):0;
        const r=svgEl("rect",{x:(i*w+1).toFixed(1),y:(112-h).toFixed(1),width:(w-2).toFixed(1),height:h.toFixed(1),fill:"#2f6fdf","data-orders":String(m.orders),"data-minute":m.minute});
        r.appendChild(svgEl("title",{},m.minute.slice(11,16)+" UTC: "+m.orders+" orders"));svg.appendChild(r)});
      svg.appendChild(svgEl("text",{x:"0",y:"126",class:"axis"},"−60 min"));svg.appendChild(svgEl("text",{x:"600",y:"126",class:"axis","text-anchor":"end"},"now"));
      svg.appendChild(svgEl("text",{x:"0",y:"9",class:"axis"},"max "+max+"/min"));
    }
    function revenueChart(revenue){
      const svg=$("revenueChart");svg.replaceChildren();const entries=Object.entries(revenue);
      svg.setAttribute("viewBox","0 0 300 "+Math.max(20,entries.length*20));
      if(!entries.length){svg.appendChild(svgEl("text",{x:"0",y:"14",class:"axis"},"no revenue yet"));return}
      const max=Math.max(...entries.map(([,v])=>Number(v)));
      entries.forEach(([code,amount],i)=>{const w=max>0?220*Number(amount)/max:0;
        svg.appendChild(svgEl("text",{x:"0",y:String(i*20+13),class:"axis"},code));
        svg.appendChild(svgEl("rect",{x:"32",y:String(i*20+3),width:Math.max(1,w).toFixed(1),height:"13",fill:"#1f8a4c","data-currency":code,"data-amount":amount}));
        svg.appendChild(svgEl("text",{x:String(Math.min(36+w,250)),y:String(i*20+13),class:"axis"},amount))});
    }

    async function refresh(){
      try{
        const [stats,status,reviews,alarms,recent]=await Promise.all([get("/stats"),get("/status"),get("/reviews?status=open&limit=50"),
          get("/alarms").catch(()=>({alarms:[]})),get("/status/recent-orders")]);
        show("orders",stats.orders);show("highValue",stats.highValueOrders);
        const revenue=Object.entries(stats.revenue);show("revenue",revenue.map(([c,v])=>v+" "+c).join(", ")||"0",revenue.map(([c,v])=>v+" "+c).join(" · ")||"0");
        show("openReviews",reviews.reviews.length,reviews.nextCursor?reviews.reviews.length+"+":String(reviews.reviews.length));
        const queues=status.queues||[];show("deadLetters",queues.reduce((s,q)=>s+q.deadLetters,0));
        show("backlog",status.outboxBacklog===null?"?":status.outboxBacklog);
        $("system").textContent="v"+status.version+" · "+status.backend+" · up "+Math.floor(status.uptimeSeconds/60)+" min";
        perMinute(stats.ordersPerMinute);revenueChart(stats.revenue);

        const al=$("alarms");al.replaceChildren();
        for(const a of alarms.alarms){const li=el("li",{"data-alarm":a.name,"data-state":a.state,title:a.description});
          li.appendChild(el("span",{},a.name+(a.value===null?"":" ("+a.value+")")));li.appendChild(el("span",{class:"badge "+a.state},a.state));al.appendChild(li)}
        if(!alarms.alarms.length)al.appendChild(el("li",{class:"empty"},"no alarms on this process"));

        const rv=body("reviews");
        for(const r of reviews.reviews){const buttons=el("span");
          const ok=el("button",{class:"ok","data-approve":r.orderId},"approve");ok.onclick=()=>act("/reviews/"+encodeURIComponent(r.orderId)+"/approve","approve "+r.orderId);
          const no=el("button",{class:"no","data-reject":r.orderId},"reject");no.onclick=()=>act("/reviews/"+encodeURIComponent(r.orderId)+"/reject","reject "+r.orderId);
          buttons.append(ok," ",no);row(rv,{"data-order":r.orderId},[r.orderId,{n:r.amount+" "+r.currency},buttons])}
        if(!reviews.reviews.length)empty(rv,3,"no open reviews");

        const qt=body("queues");
        for(const q of queues){let action="";if(q.deadLetters>0){action=el("button",{"data-redrive":q.name},"redrive");action.onclick=()=>act("/queues/"+encodeURIComponent(q.name)+"/dlq/redrive","redrive "+q.name)}
          row(qt,{"data-queue":q.name,"data-dlq":String(q.deadLetters)},[q.name,{n:String(q.visible)},{n:String(q.inFlight)},{n:String(q.deadLetters)},action||""])}

        const rc=body("recent");
        for(const o of recent.orders)row(rc,{"data-order":o.orderId},[o.orderId,{n:o.amount+" "+o.currency},o.status+(o.review?" / review "+o.review:""),o.source,o.createdAt.slice(11,19)]);
        if(!recent.orders.length)empty(rc,5,"no orders accepted by this process yet");

        $("error").style.display="none";$("updated").textContent="updated "+new Date().toLocaleTimeString();$("updated").dataset.ready="true";
      }catch(e){fail(e)}
    }
    refresh();setInterval(refresh,2000);
    </script></body></html>
    """#
}
