print("orderflow")
