/// The dashboard's HTML, self-contained (no CDN): works offline and from any host.
enum DashboardPage {
    static let html = """
    <!doctype html>
    <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
    <title>OrderFlow</title>
    <style>
    body{font-family:system-ui,sans-serif;margin:0;padding:1rem;background:#f6f7f9;color:#1d232b}
    h1{font-size:1.3rem;margin:0 0 1rem} section{background:#fff;border-radius:8px;padding:1rem;margin-bottom:1rem;box-shadow:0 1px 2px #0002}
    .grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(9rem,1fr));gap:.75rem}
    .num{font-size:1.6rem;font-weight:600} .label{color:#5b6470;font-size:.8rem}
    table{width:100%;border-collapse:collapse;font-size:.9rem} td,th{text-align:left;padding:.3rem;border-bottom:1px solid #eee}
    #bars{display:flex;align-items:flex-end;height:80px;gap:1px} #bars div{flex:1;background:#3b82f6;min-height:1px}
    </style></head><body>
    <h1>OrderFlow</h1>
    <section class="grid">
      <div><div class="num" id="orders">–</div><div class="label">orders</div></div>
      <div><div class="num" id="highValue">–</div><div class="label">high-value</div></div>
      <div><div class="num" id="revenue">–</div><div class="label">revenue</div></div>
      <div><div class="num" id="backlog">–</div><div class="label">outbox backlog</div></div>
    </section>
    <section><div class="label">orders per minute, last 60 minutes</div><div id="bars"></div></section>
    <section><div class="label">queues</div><table id="queues"><tr><th>queue</th><th>visible</th><th>in flight</th><th>DLQ</th></tr></table></section>
    <section><div class="label">open reviews</div><table id="reviews"><tr><th>order</th><th>amount</th></tr></table></section>
    <script>
    async function get(path){const r=await fetch(path);return r.json()}
    function text(id,v){document.getElementById(id).textContent=v}
    function rows(id,header,list){const t=document.getElementById(id);t.innerHTML=header;
      for(const cells of list){const tr=document.createElement('tr');for(const c of cells){const td=document.createElement('td');td.textContent=c;tr.appendChild(td)}t.appendChild(tr)}}
    async function refresh(){
      try{
        const [stats,status,reviews]=await Promise.all([get('/stats'),get('/status'),get('/reviews?status=open&limit=20')]);
        text('orders',stats.orders);text('highValue',stats.highValueOrders);
        text('revenue',Object.entries(stats.revenue).map(([c,v])=>v+' '+c).join(', ')||'0');
        text('backlog',status.outboxBacklog);
        const max=Math.max(1,...stats.ordersPerMinute.map(m=>m.orders));const bars=document.getElementById('bars');bars.innerHTML='';
        for(const m of stats.ordersPerMinute){const d=document.createElement('div');d.style.height=(100*m.orders/max)+'%';d.title=m.minute+': '+m.orders;bars.appendChild(d)}
        rows('queues','<tr><th>queue</th><th>visible</th><th>in flight</th><th>DLQ</th></tr>',(status.queues||[]).map(q=>[q.name,q.visible,q.inFlight,q.deadLetters]));
        rows('reviews','<tr><th>order</th><th>amount</th></tr>',reviews.reviews.map(r=>[r.orderId,r.amount+' '+r.currency]));
      }catch(e){console.error(e)}
    }
    refresh();setInterval(refresh,2000);
    </script></body></html>
    """
}
