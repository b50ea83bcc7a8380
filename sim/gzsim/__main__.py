from gzsim.cli import main

main()
