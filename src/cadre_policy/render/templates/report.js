(function(){
  var box=document.getElementById('search'), none=document.getElementById('no-match'),
      shown=document.getElementById('shown'), items=document.querySelectorAll('[data-item]'),
      detail=document.getElementById('print-detail');
  function filter(){
    var q=box.value.trim().toLowerCase(), n=0;
    for(var i=0;i<items.length;i++){
      var hit=!q || items[i].textContent.toLowerCase().indexOf(q)>=0;
      items[i].classList.toggle('hidden',!hit); if(hit) n++;
    }
    if(shown) shown.textContent=n;
    none.classList.toggle('shown', !!(q && !n));
  }
  if(box){ box.addEventListener('input',filter); filter(); }
  if(detail){ detail.addEventListener('change',function(){ document.body.classList.toggle('print-detail',detail.checked); }); }
})();
