const digits = Math.abs(tick) >= 10 || Number.isInteger(tick) ? 0 : 2;
const [whole, fraction] = Math.abs(tick).toFixed(digits).split(".");
const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, group);
const trimmed = fraction ? fraction.replace(/0+$/, "") : "";
return (tick < 0 && Number(whole + (trimmed || "0")) !== 0 ? minus : "") + grouped + (trimmed ? decimal + trimmed : "");
