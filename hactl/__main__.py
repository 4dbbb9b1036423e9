from hactl.entry import main

main()
