import TesseraTensor
print("bench")
