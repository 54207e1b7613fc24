console.log("berthd");
